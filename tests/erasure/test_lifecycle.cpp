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

// Every active state × every outcome, with and without an App API key: the whole table, written
// out, so a change to the lifecycle must change this table too. `last` only matters for a
// retryable failure (then dead: attempts exhausted); still_present only for verify.
TEST_CASE("decide: every active state and outcome, verified and unverified", "[erasure]") {
    using E = ErasureState;
    using O = Outcome;
    using Ev = Event;
    using L = Lease;
    const Halt none = Halt::none;
    struct Row {
        bool verified;
        E state;
        O outcome;
        Expected want;
    };
    const std::vector<Row> table = {
        // verified: pending → resolve
        {true,
         E::pending,
         O::success,
         {E::resolved, L::keep, false, none, {Ev::call_resolve, Ev::erasure_resolved}}},
        {true, E::pending, O::retryable, {E::pending, L::release, true, none, {Ev::call_resolve}}},
        {true,
         E::pending,
         O::permanent,
         {E::dead, L::release, false, none, {Ev::call_resolve, Ev::erasure_dead}}},
        {true,
         E::pending,
         O::auth,
         {E::pending, L::release_uncharged, false, Halt::credentials, {Ev::call_resolve}}},
        {true,
         E::pending,
         O::halt,
         {E::pending, L::release_uncharged, false, Halt::environment, {Ev::call_resolve}}},
        {true,
         E::pending,
         O::rate_limited,
         {E::pending, L::release_uncharged, true, none, {Ev::call_resolve}}},
        // verified: resolved → suppress
        {true,
         E::resolved,
         O::success,
         {E::suppressed, L::keep, false, none, {Ev::call_suppress, Ev::erasure_suppressed}}},
        {true,
         E::resolved,
         O::retryable,
         {E::resolved, L::release, true, none, {Ev::call_suppress}}},
        {true,
         E::resolved,
         O::permanent,
         {E::dead, L::release, false, none, {Ev::call_suppress, Ev::erasure_dead}}},
        {true,
         E::resolved,
         O::auth,
         {E::resolved, L::release_uncharged, false, Halt::credentials, {Ev::call_suppress}}},
        {true,
         E::resolved,
         O::halt,
         {E::resolved, L::release_uncharged, false, Halt::environment, {Ev::call_suppress}}},
        {true,
         E::resolved,
         O::rate_limited,
         {E::resolved, L::release_uncharged, true, none, {Ev::call_suppress}}},
        // verified: suppressed → destroy (then verify, in the same claim)
        {true,
         E::suppressed,
         O::success,
         {E::erased, L::keep, false, none, {Ev::call_destroy, Ev::erasure_erased}}},
        {true,
         E::suppressed,
         O::retryable,
         {E::suppressed, L::release, true, none, {Ev::call_destroy}}},
        {true,
         E::suppressed,
         O::permanent,
         {E::dead, L::release, false, none, {Ev::call_destroy, Ev::erasure_dead}}},
        {true,
         E::suppressed,
         O::auth,
         {E::suppressed, L::release_uncharged, false, Halt::credentials, {Ev::call_destroy}}},
        {true,
         E::suppressed,
         O::halt,
         {E::suppressed, L::release_uncharged, false, Halt::environment, {Ev::call_destroy}}},
        {true,
         E::suppressed,
         O::rate_limited,
         {E::suppressed, L::release_uncharged, true, none, {Ev::call_destroy}}},
        // verified: erased → verify (still_present: see the window test below)
        {true,
         E::erased,
         O::success,
         {E::done, L::release, false, none, {Ev::call_verify, Ev::erasure_done}}},
        {true, E::erased, O::retryable, {E::erased, L::release, true, none, {Ev::call_verify}}},
        {true,
         E::erased,
         O::permanent,
         {E::dead, L::release, false, none, {Ev::call_verify, Ev::erasure_dead}}},
        {true,
         E::erased,
         O::auth,
         {E::erased, L::release_uncharged, false, Halt::credentials, {Ev::call_verify}}},
        {true,
         E::erased,
         O::halt,
         {E::erased, L::release_uncharged, false, Halt::environment, {Ev::call_verify}}},
        {true,
         E::erased,
         O::rate_limited,
         {E::erased, L::release_uncharged, true, none, {Ev::call_verify}}},
        {true,
         E::erased,
         O::still_present,
         {E::erased, L::release, true, none, {Ev::call_verify, Ev::erasure_still_present}}},
        // unverified: pending → suppress
        {false,
         E::pending,
         O::success,
         {E::suppressed, L::keep, false, none, {Ev::call_suppress, Ev::erasure_suppressed}}},
        {false,
         E::pending,
         O::retryable,
         {E::pending, L::release, true, none, {Ev::call_suppress}}},
        {false,
         E::pending,
         O::permanent,
         {E::dead, L::release, false, none, {Ev::call_suppress, Ev::erasure_dead}}},
        {false,
         E::pending,
         O::auth,
         {E::pending, L::release_uncharged, false, Halt::credentials, {Ev::call_suppress}}},
        {false,
         E::pending,
         O::halt,
         {E::pending, L::release_uncharged, false, Halt::environment, {Ev::call_suppress}}},
        {false,
         E::pending,
         O::rate_limited,
         {E::pending, L::release_uncharged, true, none, {Ev::call_suppress}}},
        // unverified: suppressed → destroy → done (unverified)
        {false,
         E::suppressed,
         O::success,
         {E::done, L::release, false, none, {Ev::call_destroy, Ev::erasure_done}}},
        {false,
         E::suppressed,
         O::retryable,
         {E::suppressed, L::release, true, none, {Ev::call_destroy}}},
        {false,
         E::suppressed,
         O::permanent,
         {E::dead, L::release, false, none, {Ev::call_destroy, Ev::erasure_dead}}},
        {false,
         E::suppressed,
         O::auth,
         {E::suppressed, L::release_uncharged, false, Halt::credentials, {Ev::call_destroy}}},
        {false,
         E::suppressed,
         O::halt,
         {E::suppressed, L::release_uncharged, false, Halt::environment, {Ev::call_destroy}}},
        {false,
         E::suppressed,
         O::rate_limited,
         {E::suppressed, L::release_uncharged, true, none, {Ev::call_destroy}}},
    };
    auto row_for = [&](bool verified, E state, O outcome) -> const Row* {
        for (const auto& r : table) {
            if (r.verified == verified && r.state == state && r.outcome == outcome) {
                return &r;
            }
        }
        return nullptr;
    };
    int cells = 0;
    for (bool verified : {true, false}) {
        for (E state : k_erasure_states) {
            for (O outcome : k_outcomes) {
                for (bool last : {false, true}) {
                    auto step = next_step(state, verified);
                    Unit unit{state, last ? 3 : 1, 3, verified};
                    CallOutcome call{outcome, 503, "HTTP 503"};
                    INFO((verified ? "verified " : "unverified ")
                         << to_text(state) << " " << to_text(outcome) << (last ? " (last)" : ""));
                    if (!step) {
                        // A finished erasure (or a verified-only state without a key) makes no
                        // call: asking is a programming error.
                        for (Step s :
                             {Step::resolve, Step::suppress, Step::destroy, Step::verify}) {
                            CHECK_THROWS_AS(decide(unit, s, call), std::logic_error);
                        }
                        continue;
                    }
                    if (outcome == O::still_present && *step != Step::verify) {
                        CHECK_THROWS_AS(decide(unit, *step, call), std::logic_error);
                        continue;
                    }
                    const Row* row = row_for(verified, state, outcome);
                    REQUIRE(row != nullptr);
                    Expected want = row->want;
                    if (last && outcome == O::retryable) {
                        want = {E::dead,
                                L::release,
                                false,
                                none,
                                {call_event(*step), Ev::erasure_dead}};
                    }
                    Decision d = decide(unit, *step, call);
                    CHECK(d.next == want.next);
                    CHECK(d.lease == want.lease);
                    CHECK(d.retry == want.retry);
                    CHECK(d.halt == want.halt);
                    CHECK(d.events == want.events);
                    CHECK(d.reason.empty() == (d.next != E::dead));
                    // A step that succeeded, or a re-check, counts its attempts afresh.
                    CHECK(d.new_step == (outcome == O::success || outcome == O::still_present));
                    // Never another step than the next: suppress before destroy, and so on.
                    for (Step other :
                         {Step::resolve, Step::suppress, Step::destroy, Step::verify}) {
                        if (other != *step) {
                            CHECK_THROWS_AS(decide(unit, other, call), std::logic_error);
                        }
                    }
                    ++cells;
                }
            }
        }
    }
    // Every row of the table was reached, twice (attempts left, last attempt).
    CHECK(cells == 2 * static_cast<int>(table.size()));
}

TEST_CASE("decide: a profile still present is checked again, erased once more, then dead",
          "[erasure]") {
    CallOutcome present{Outcome::still_present, 200, ""};
    Unit unit{ErasureState::erased, 1, 3, true};
    unit.verify_window_over = false;
    auto d = decide(unit, Step::verify, present);
    CHECK(d.next == ErasureState::erased);
    CHECK(d.retry);
    unit.verify_window_over = true;
    unit.erase_round_left = true;
    d = decide(unit, Step::verify, present);
    CHECK(d.next == ErasureState::pending); // resolve again: it may have a new cio_id
    CHECK(d.retry);
    CHECK(d.events == std::vector<Event>{Event::call_verify, Event::erasure_still_present});
    unit.erase_round_left = false;
    d = decide(unit, Step::verify, present);
    CHECK(d.next == ErasureState::dead);
    CHECK(d.reason == "profile still present after erasure");
    CHECK(d.events == std::vector<Event>{Event::call_verify, Event::erasure_still_present,
                                         Event::erasure_dead});
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
        CHECK(is_active(s) == next_step(s, true).has_value());
    }
    CHECK_FALSE(parse_request_state("suppressed"));
    CHECK_FALSE(parse_erasure_state("Done"));
    CHECK(to_text(Event::call_suppress) == "call.suppress");
    CHECK(to_text(Event::request_dead) == "request.dead");
}
