#include "erasure/lifecycle.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <stdexcept>
#include <tuple>

using namespace lethe::erasure;

namespace {

// The expected decision for one (state, outcome, last attempt?) cell of the table.
struct Expected {
    ErasureState next;
    Lease lease;
    bool retry;
    Halt halt;
    std::vector<Event> events;
};

} // namespace

// Every active state × every outcome × (attempts left, last attempt): the whole table, written
// out, so a change to the lifecycle must change this table too.
TEST_CASE("decide: every active state and outcome, with attempts left and at the last",
          "[erasure]") {
    using E = ErasureState;
    using O = Outcome;
    using Ev = Event;
    const std::map<std::tuple<E, O, bool>, Expected> table = {
        // pending: suppress next
        {{E::pending, O::success, false},
         {E::suppressed,
          Lease::keep,
          false,
          Halt::none,
          {Ev::call_suppress, Ev::erasure_suppressed}}},
        {{E::pending, O::success, true},
         {E::suppressed,
          Lease::keep,
          false,
          Halt::none,
          {Ev::call_suppress, Ev::erasure_suppressed}}},
        {{E::pending, O::retryable, false},
         {E::pending, Lease::release, true, Halt::none, {Ev::call_suppress}}},
        {{E::pending, O::retryable, true},
         {E::dead, Lease::release, false, Halt::none, {Ev::call_suppress, Ev::erasure_dead}}},
        {{E::pending, O::permanent, false},
         {E::dead, Lease::release, false, Halt::none, {Ev::call_suppress, Ev::erasure_dead}}},
        {{E::pending, O::permanent, true},
         {E::dead, Lease::release, false, Halt::none, {Ev::call_suppress, Ev::erasure_dead}}},
        {{E::pending, O::auth, false},
         {E::pending, Lease::release_uncharged, false, Halt::credentials, {Ev::call_suppress}}},
        {{E::pending, O::auth, true},
         {E::pending, Lease::release_uncharged, false, Halt::credentials, {Ev::call_suppress}}},
        {{E::pending, O::halt, false},
         {E::pending, Lease::release_uncharged, false, Halt::environment, {Ev::call_suppress}}},
        {{E::pending, O::halt, true},
         {E::pending, Lease::release_uncharged, false, Halt::environment, {Ev::call_suppress}}},
        // suppressed: destroy next
        {{E::suppressed, O::success, false},
         {E::done, Lease::release, false, Halt::none, {Ev::call_destroy, Ev::erasure_done}}},
        {{E::suppressed, O::success, true},
         {E::done, Lease::release, false, Halt::none, {Ev::call_destroy, Ev::erasure_done}}},
        {{E::suppressed, O::retryable, false},
         {E::suppressed, Lease::release, true, Halt::none, {Ev::call_destroy}}},
        {{E::suppressed, O::retryable, true},
         {E::dead, Lease::release, false, Halt::none, {Ev::call_destroy, Ev::erasure_dead}}},
        {{E::suppressed, O::permanent, false},
         {E::dead, Lease::release, false, Halt::none, {Ev::call_destroy, Ev::erasure_dead}}},
        {{E::suppressed, O::permanent, true},
         {E::dead, Lease::release, false, Halt::none, {Ev::call_destroy, Ev::erasure_dead}}},
        {{E::suppressed, O::auth, false},
         {E::suppressed, Lease::release_uncharged, false, Halt::credentials, {Ev::call_destroy}}},
        {{E::suppressed, O::auth, true},
         {E::suppressed, Lease::release_uncharged, false, Halt::credentials, {Ev::call_destroy}}},
        {{E::suppressed, O::halt, false},
         {E::suppressed, Lease::release_uncharged, false, Halt::environment, {Ev::call_destroy}}},
        {{E::suppressed, O::halt, true},
         {E::suppressed, Lease::release_uncharged, false, Halt::environment, {Ev::call_destroy}}},
    };
    int cells = 0;
    for (E state : k_erasure_states) {
        for (O outcome : k_outcomes) {
            for (bool last : {false, true}) {
                auto step = next_step(state);
                Unit unit{state, last ? 3 : 1, 3};
                CallOutcome call{outcome, 503, "HTTP 503"};
                if (!step) {
                    // A finished erasure makes no call: asking is a programming error.
                    CHECK_THROWS_AS(decide(unit, Step::suppress, call), std::logic_error);
                    CHECK_THROWS_AS(decide(unit, Step::destroy, call), std::logic_error);
                    continue;
                }
                INFO(to_text(state) << " " << to_text(outcome) << (last ? " (last)" : ""));
                const Expected& want = table.at({state, outcome, last});
                Decision d = decide(unit, *step, call);
                CHECK(d.next == want.next);
                CHECK(d.lease == want.lease);
                CHECK(d.retry == want.retry);
                CHECK(d.halt == want.halt);
                CHECK(d.events == want.events);
                CHECK(d.reason.empty() == (d.next != E::dead));
                // Never the other step: suppress before destroy.
                Step other = *step == Step::suppress ? Step::destroy : Step::suppress;
                CHECK_THROWS_AS(decide(unit, other, call), std::logic_error);
                ++cells;
            }
        }
    }
    CHECK(cells == static_cast<int>(table.size()));
}

TEST_CASE("decide: the reason of a dead erasure names the step and what failed", "[erasure]") {
    auto d = decide({ErasureState::pending, 3, 3}, Step::suppress,
                    {Outcome::retryable, 503, "HTTP 503"});
    CHECK(d.reason == "suppress: HTTP 503 (attempts exhausted after 3)");
    d = decide({ErasureState::suppressed, 1, 3}, Step::destroy,
               {Outcome::permanent, 400, "HTTP 400"});
    CHECK(d.reason == "destroy: HTTP 400");
}

TEST_CASE("decide_before_call: an erasure claimed beyond its attempts is dead without a call",
          "[erasure]") {
    CHECK_FALSE(decide_before_call({ErasureState::pending, 3, 3}));
    auto d = decide_before_call({ErasureState::suppressed, 4, 3});
    REQUIRE(d);
    CHECK(d->next == ErasureState::dead);
    CHECK(d->events == std::vector<Event>{Event::erasure_dead});
    CHECK(d->reason == "attempts exhausted after 3 (earlier attempts did not finish)");
}

TEST_CASE("aggregate: a request's state from its erasures'", "[erasure]") {
    using E = ErasureState;
    CHECK(aggregate({}) == RequestState::pending);
    CHECK(aggregate({E::done}) == RequestState::done);
    CHECK(aggregate({E::done, E::done, E::done}) == RequestState::done);
    CHECK(aggregate({E::done, E::pending}) == RequestState::pending);
    CHECK(aggregate({E::done, E::suppressed}) == RequestState::pending);
    CHECK(aggregate({E::dead, E::pending}) == RequestState::dead); // loud at once
    CHECK(aggregate({E::done, E::dead}) == RequestState::dead);
    CHECK(aggregate({E::cancelled, E::cancelled}) == RequestState::cancelled);
    CHECK(aggregate({E::cancelled, E::pending}) == RequestState::pending);
}

TEST_CASE("text forms round-trip and refuse anything else", "[erasure]") {
    for (auto s : k_request_states) {
        CHECK(parse_request_state(to_text(s)) == s);
    }
    for (auto s : k_erasure_states) {
        CHECK(parse_erasure_state(to_text(s)) == s);
        CHECK(is_active(s) == next_step(s).has_value());
    }
    CHECK_FALSE(parse_request_state("suppressed"));
    CHECK_FALSE(parse_erasure_state("Done"));
    CHECK(to_text(Event::call_suppress) == "call.suppress");
    CHECK(to_text(Event::request_dead) == "request.dead");
}
