#include "serve/replay_guard.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace lethe;
using namespace lethe::serve;

namespace {

constexpr TimeMs k_start = 1'795'348'800'000; // 2026-11-22T12:00:00Z
constexpr std::int64_t k_start_s = k_start / 1000;

// A 32-byte MAC whose first bytes differ by `n`.
std::string mac(int n) {
    std::string m(32, 'x');
    m[0] = static_cast<char>(n & 0xff);
    m[1] = static_cast<char>((n >> 8) & 0xff);
    m[2] = static_cast<char>((n >> 16) & 0xff);
    return m;
}

} // namespace

TEST_CASE("a MAC is admitted once while its timestamp is inside the window", "[serve][replay]") {
    ReplayGuard guard{k_start};
    CHECK(guard.admit(k_start_s, mac(1), k_start) == ReplayVerdict::fresh);
    CHECK(guard.admit(k_start_s, mac(1), k_start + 299'000) == ReplayVerdict::replayed);
    CHECK(guard.admit(k_start_s, mac(2), k_start) == ReplayVerdict::fresh);
    // The same MAC bytes under another second are another query (a MAC covers its timestamp).
    CHECK(guard.admit(k_start_s + 1, mac(1), k_start + 1'000) == ReplayVerdict::fresh);
    CHECK(guard.size() == 3);
    // Once the second has left the window, it is forgotten (the window check refuses it).
    CHECK(guard.admit(k_start_s + 400, mac(3), k_start + 301'000) == ReplayVerdict::fresh);
    CHECK(guard.size() == 2); // k_start_s + 1 and + 400
}

TEST_CASE("a query signed before the guard started is refused", "[serve][replay]") {
    ReplayGuard guard{k_start + 500}; // started half-way through a second
    CHECK(guard.admit(k_start_s - 1, mac(1), k_start + 600) == ReplayVerdict::before_start);
    CHECK(guard.admit(k_start_s, mac(1), k_start + 600) == ReplayVerdict::fresh);
    CHECK(guard.size() == 1);
}

TEST_CASE("a full guard refuses new queries until the oldest expire", "[serve][replay]") {
    ReplayGuard guard{k_start, 3};
    CHECK(guard.admit(k_start_s, mac(1), k_start) == ReplayVerdict::fresh);
    CHECK(guard.admit(k_start_s, mac(2), k_start) == ReplayVerdict::fresh);
    CHECK(guard.admit(k_start_s + 10, mac(3), k_start + 10'000) == ReplayVerdict::fresh);
    CHECK(guard.admit(k_start_s + 10, mac(4), k_start + 10'000) == ReplayVerdict::full);
    // A replay is still told as a replay when full.
    CHECK(guard.admit(k_start_s, mac(1), k_start + 10'000) == ReplayVerdict::replayed);
    // The first second expires: room again.
    CHECK(guard.admit(k_start_s + 302, mac(4), k_start + 302'000) == ReplayVerdict::fresh);
    CHECK(guard.size() == 2);
}
