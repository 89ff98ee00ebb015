#include "worker/retry_policy.hpp"

#include <catch2/catch.hpp>

using namespace lethe;
using namespace lethe::worker;

namespace {
// Always returns the same fraction of the range: 0 = lowest, 1 = highest.
class FixedRandom final : public Random {
public:
    explicit FixedRandom(double fraction) : m_fraction(fraction) {}
    std::uint64_t uniform(std::uint64_t max) override {
        return static_cast<std::uint64_t>(static_cast<double>(max) * m_fraction);
    }

private:
    double m_fraction;
};
} // namespace

TEST_CASE("backoff doubles per attempt up to the cap, with full jitter", "[worker][backoff]") {
    RetryPolicy p{100, 1'000, 10};
    FixedRandom high(1.0);
    FixedRandom low(0.0);
    CHECK(backoff_delay(p, 1, high) == 100);
    CHECK(backoff_delay(p, 2, high) == 200);
    CHECK(backoff_delay(p, 3, high) == 400);
    CHECK(backoff_delay(p, 4, high) == 800);
    CHECK(backoff_delay(p, 5, high) == 1'000);
    CHECK(backoff_delay(p, 60, high) == 1'000); // no overflow far beyond the cap
    CHECK(backoff_delay(p, 5, low) == 1);       // full jitter reaches down to (almost) zero
}

TEST_CASE("jitter stays within its bounds", "[worker][backoff]") {
    RetryPolicy p{1'000, 60'000, 10};
    SystemRandom r;
    for (int attempt = 1; attempt <= 12; ++attempt) {
        TimeMs ceiling = std::min<TimeMs>(60'000, 1'000LL << (attempt - 1));
        for (int i = 0; i < 200; ++i) {
            TimeMs d = backoff_delay(p, attempt, r);
            REQUIRE(d >= 1);
            REQUIRE(d <= ceiling);
        }
    }
}

TEST_CASE("Retry-After wins when it is later than the backoff", "[worker][backoff]") {
    RetryPolicy p{100, 1'000, 10};
    FixedRandom high(1.0);
    CHECK(next_attempt_time(p, 1, 10'000, std::nullopt, high) == 10'100);
    CHECK(next_attempt_time(p, 1, 10'000, 30'000, high) == 40'000);
    CHECK(next_attempt_time(p, 4, 10'000, 5, high) == 10'800);
}

TEST_CASE("small settings work: 1 ms base and cap", "[worker][backoff]") {
    RetryPolicy p{1, 1, 3};
    SystemRandom r;
    CHECK(backoff_delay(p, 1, r) == 1);
    CHECK(backoff_delay(p, 9, r) == 1);
}
