#include "worker/pacer.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

using namespace lethe;
using namespace lethe::worker;

TEST_CASE("starts are at least one interval apart", "[worker][pacer]") {
    FakeClock clock(1'000);
    Pacer p(100, clock);
    CHECK(p.next_start() == 1'000); // the first start is immediate
    p.started();
    CHECK(p.next_start() == 1'100);
    clock.advance(30);
    CHECK(p.next_start() == 1'100);
}

TEST_CASE("a slow erasure costs no extra wait: the interval is measured between starts",
          "[worker][pacer]") {
    FakeClock clock(0);
    Pacer p(100, clock);
    p.started();
    clock.advance(150); // the erasure (or the claim) took longer than the interval
    CHECK(p.next_start() == 150);
}

TEST_CASE("ten starts per second at 100 ms, held across concurrent erasures", "[worker][pacer]") {
    FakeClock clock(0);
    Pacer p(100, clock);
    int starts = 0;
    // Simulate many in-flight erasures all asking to start as soon as they may.
    while (clock.now_ms() < 10'000) {
        TimeMs t = p.next_start();
        clock.set(t);
        if (t >= 10'000) {
            break;
        }
        p.started();
        ++starts;
    }
    CHECK(starts == 100);
}

TEST_CASE("a pause holds every start until it ends; pauses only extend", "[worker][pacer]") {
    FakeClock clock(0);
    Pacer p(0, clock);
    p.pause_until(5'000);
    CHECK(p.next_start() == 5'000);
    p.pause_until(2'000);
    CHECK(p.paused_until() == 5'000);
    clock.set(6'000);
    CHECK(p.next_start() == 6'000);
}

TEST_CASE("pacing 0 never waits", "[worker][pacer]") {
    FakeClock clock(42);
    Pacer p(0, clock);
    p.started();
    CHECK(p.next_start() == 42);
}

TEST_CASE("try_start: of several threads asking at once, one start per interval goes",
          "[worker][pacer]") {
    FakeClock clock(0);
    Pacer p(100, clock);
    CHECK(p.try_start());
    CHECK_FALSE(p.try_start());
    clock.advance(99);
    CHECK_FALSE(p.try_start());
    clock.advance(1);
    // Four threads ask at the same instant: exactly one may start.
    std::atomic<int> started{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k) {
        threads.emplace_back([&] { started += p.try_start() ? 1 : 0; });
    }
    for (auto& t : threads) {
        t.join();
    }
    CHECK(started == 1);
    p.pause_until(500);
    clock.set(400);
    CHECK_FALSE(p.try_start()); // a 429 pause holds it too
    clock.set(500);
    CHECK(p.try_start());
}
