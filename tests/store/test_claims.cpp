#include "erasure/lifecycle.hpp"
#include "fixture.hpp"
#include "store/claims.hpp"

#include <catch2/catch.hpp>

using namespace lethe;
using erasure::ErasureState;
using erasure::Outcome;
using erasure::Step;

namespace {

store::CallRecord record(Step step, Outcome outcome, long status) {
    store::CallRecord c;
    c.step = step;
    c.outcome = outcome;
    c.http_status = status;
    c.error = outcome == Outcome::success ? "" : "HTTP " + std::to_string(status);
    c.latency_ms = 12;
    return c;
}

// Decides and applies one call's result for claim `e`, as the worker does.
bool call(store::WorkerQueue& w, store::ClaimedErasure& e, Outcome outcome, long status,
          std::int64_t max_attempts = 3, TimeMs next_attempt_at = 0) {
    const Step step = *erasure::next_step(e.state, false);
    store::StepFacts facts;
    facts.calls.push_back(record(step, outcome, status));
    auto d = erasure::decide({e.state, e.step_attempt, max_attempts}, step,
                             {outcome, status, facts.calls.back().error});
    return w.apply(e, d, facts, d.retry ? std::optional<TimeMs>(next_attempt_at) : std::nullopt);
}

} // namespace

TEST_CASE("claim leases the oldest due erasure of a workspace and counts the attempt",
          "[store][claims]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    f.insert(f.request("R2", "bob"));
    store::WorkerQueue a(f.db, f.clock, "worker-a");
    store::WorkerQueue b(f.db, f.clock, "worker-b");
    auto first = a.claim("default", 60'000);
    auto second = b.claim("default", 60'000);
    REQUIRE(first);
    REQUIRE(second);
    CHECK(first->request_id == "R1");
    CHECK(first->identifier == "alice");
    CHECK(first->workspace == "default");
    CHECK(first->attempt == 1);
    CHECK(second->request_id == "R2");
    CHECK_FALSE(a.claim("default", 60'000)); // both leased
    CHECK_FALSE(a.claim("other", 60'000));   // nothing in a workspace it does not apply to
}

TEST_CASE("every request gets one erasure per workspace, or only in those it names",
          "[store][claims]") {
    test::StoreFixture f;
    f.workspaces = {"eu-main", "staging", "us-main"};
    f.insert(f.request("R1", "alice"));
    auto named = f.request("R2", "bob");
    named.workspaces = std::vector<std::string>{"eu-main", "us-main"};
    f.insert(named);
    CHECK(f.count("SELECT count(*) FROM erasures WHERE request = (SELECT id FROM requests WHERE "
                  "request_id = 'R1')") == 3);
    CHECK(f.erasure_state("R2", "staging") == "(none)");
    CHECK(f.erasure_state("R2", "eu-main") == "pending");
    store::WorkerQueue w(f.db, f.clock, "w");
    CHECK(w.claim("staging", 60'000)->request_id == "R1");
    CHECK_FALSE(w.claim("staging", 60'000));
}

TEST_CASE("an expired lease lets another worker take the erasure over", "[store][claims]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    store::WorkerQueue a(f.db, f.clock, "worker-a");
    store::WorkerQueue b(f.db, f.clock, "worker-b");
    auto mine = a.claim("default", 1'000);
    REQUIRE(mine);
    f.clock.advance(999);
    CHECK_FALSE(b.claim("default", 1'000));
    CHECK(a.renew(*mine, 1'000)); // renewal pushes expiry to t+1999
    f.clock.advance(500);
    CHECK_FALSE(b.claim("default", 1'000));
    f.clock.advance(1'000);
    auto theirs = b.claim("default", 1'000);
    REQUIRE(theirs);
    CHECK(theirs->attempt == 2);
    // The first worker has lost the lease: its late result is refused and nothing is written.
    CHECK_FALSE(a.renew(*mine, 1'000));
    CHECK_FALSE(call(a, *mine, Outcome::success, 200));
    CHECK(f.erasure_state("R1") == "pending");
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event LIKE 'call.%'") == 0);
}

TEST_CASE("suppress then destroy: done, identifier scrubbed, linked requests finished",
          "[store][claims]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    f.insert(f.request("R2", "alice")); // linked
    store::WorkerQueue w(f.db, f.clock, "w");
    auto e = w.claim("default", 60'000);
    REQUIRE(e);
    CHECK_FALSE(w.claim("default", 60'000)); // the linked request has no erasure of its own
    REQUIRE(call(w, *e, Outcome::success, 200));
    CHECK(e->state == ErasureState::suppressed);
    CHECK(f.erasure_state("R1") == "suppressed");
    CHECK(f.state_of("R1") == "pending");
    REQUIRE(call(w, *e, Outcome::success, 200));
    CHECK(f.erasure_state("R1") == "done");
    CHECK(f.state_of("R1") == "done");
    CHECK(f.state_of("R2") == "done");
    CHECK(f.count("SELECT count(*) FROM requests WHERE identifier IS NOT NULL") == 0);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'request.done'") == 2);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'erasure.suppressed' AND detail "
                  "LIKE '%\"workspace\":\"default\"%'") == 1);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'call.suppress' AND detail LIKE "
                  "'%\"workspace\":\"default\"%'") == 1);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'call.destroy'") == 1);
}

TEST_CASE("a request is done only when every workspace is done", "[store][claims]") {
    test::StoreFixture f;
    f.workspaces = {"eu", "us"};
    f.insert(f.request("R1", "alice"));
    store::WorkerQueue w(f.db, f.clock, "w");
    auto eu = w.claim("eu", 60'000);
    auto us = w.claim("us", 60'000);
    REQUIRE(eu);
    REQUIRE(us);
    REQUIRE(call(w, *eu, Outcome::success, 200));
    REQUIRE(call(w, *eu, Outcome::success, 200));
    CHECK(f.erasure_state("R1", "eu") == "done");
    CHECK(f.state_of("R1") == "pending");
    CHECK(f.count("SELECT count(*) FROM requests WHERE identifier IS NOT NULL") == 1);
    REQUIRE(call(w, *us, Outcome::success, 200));
    REQUIRE(call(w, *us, Outcome::success, 200));
    CHECK(f.state_of("R1") == "done");
    CHECK(f.count("SELECT count(*) FROM requests WHERE identifier IS NOT NULL") == 0);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'request.done'") == 1);
}

TEST_CASE("a retry is durable: attempts and next attempt live in the database", "[store][claims]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    {
        store::WorkerQueue w(f.db, f.clock, "w1");
        auto e = w.claim("default", 60'000);
        REQUIRE(call(w, *e, Outcome::retryable, 503, 3, f.clock.now_ms() + 5'000));
    }
    store::WorkerQueue restarted(f.db, f.clock, "w2");
    CHECK_FALSE(restarted.claim("default", 60'000));
    auto outlook = restarted.outlook("default", 0);
    CHECK(outlook.waiting_retry == 1);
    CHECK(outlook.next_attempt_at == f.clock.now_ms() + 5'000);
    f.clock.advance(5'000);
    auto again = restarted.claim("default", 60'000);
    REQUIRE(again);
    CHECK(again->attempt == 2);
    store::RequestQueue q(f.db, f.clock);
    CHECK(q.find("R1")->last_error == "workspace default: suppress: HTTP 503");
}

TEST_CASE("dead in one workspace makes the request dead, naming it; retry resumes only that",
          "[store][claims]") {
    test::StoreFixture f;
    f.workspaces = {"eu", "us"};
    f.insert(f.request("R1", "alice"));
    f.insert(f.request("R2", "alice"));
    store::WorkerQueue w(f.db, f.clock, "w");
    auto us = w.claim("us", 60'000);
    REQUIRE(call(w, *us, Outcome::success, 200));
    REQUIRE(call(w, *us, Outcome::success, 200));
    auto eu = w.claim("eu", 60'000);
    REQUIRE(call(w, *eu, Outcome::permanent, 400));
    CHECK(f.state_of("R1") == "dead");
    CHECK(f.state_of("R2") == "dead");
    store::RequestQueue q(f.db, f.clock);
    CHECK(q.find("R1")->last_error == "workspace eu: suppress: HTTP 400");
    // The linked request says why it died, not only whose death it shared.
    CHECK(q.find("R2")->last_error == "linked to R1: workspace eu: suppress: HTTP 400");
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'request.dead' AND request_ref = "
                  "'R1' AND detail LIKE '%\"workspace\":\"eu\"%'") == 1);
    CHECK(q.retry_all_dead("cli:test") == 2);
    CHECK(f.state_of("R1") == "pending");
    CHECK(f.erasure_state("R1", "eu") == "pending");
    CHECK(f.erasure_state("R1", "us") == "done"); // not erased again
    CHECK(f.erasure_int("R1", "attempts", "eu") == 0);
    CHECK(q.find("R2")->linked_to == "R1");
    auto again = w.claim("eu", 60'000);
    REQUIRE(again);
    CHECK_FALSE(w.claim("us", 60'000));
    CHECK_THROWS_WITH(q.retry({"R1"}, "cli:test"), Catch::Contains("only dead requests"));
}

TEST_CASE("credentials refused give the erasure back uncharged and ask for a halt",
          "[store][claims]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    store::WorkerQueue w(f.db, f.clock, "w");
    auto e = w.claim("default", 60'000);
    store::StepFacts facts;
    facts.calls.push_back(record(Step::suppress, Outcome::auth, 401));
    auto d = erasure::decide({e->state, e->step_attempt, 3}, Step::suppress,
                             {Outcome::auth, 401, "HTTP 401"});
    CHECK(d.halt == erasure::Halt::credentials);
    REQUIRE(w.apply(*e, d, facts));
    auto again = w.claim("default", 60'000);
    REQUIRE(again);
    CHECK(again->attempt == 1);
    CHECK(f.erasure_state("R1") == "pending");
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'call.suppress' AND detail LIKE "
                  "'%\"outcome\":\"auth\"%'") == 1);
}

TEST_CASE("a taken-over claim cannot write even under the same owner name", "[store][claims]") {
    // Two workers in containers can both be "host:1"; the claim's attempt number tells them apart.
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    store::WorkerQueue first(f.db, f.clock, "host:1");
    store::WorkerQueue second(f.db, f.clock, "host:1");
    auto stale = first.claim("default", 1'000);
    REQUIRE(stale);
    f.clock.advance(1'000); // the first worker stalls past its lease
    auto current = second.claim("default", 1'000);
    REQUIRE(current);
    CHECK(current->attempt == stale->attempt + 1);
    CHECK_FALSE(first.renew(*stale, 1'000));
    auto copy = *stale;
    CHECK_FALSE(call(first, copy, Outcome::retryable, 503, 10, f.clock.now_ms() + 60'000));
    copy = *stale;
    CHECK_FALSE(call(first, copy, Outcome::permanent, 400));
    CHECK_FALSE(first.release(*stale));
    copy = *stale;
    CHECK_FALSE(call(first, copy, Outcome::success, 200));
    // The current holder is untouched and carries on.
    CHECK(f.count("SELECT count(*) FROM erasures WHERE lease_owner = 'host:1' AND attempts = 2") ==
          1);
    CHECK(second.renew(*current, 1'000));
    CHECK(call(second, *current, Outcome::success, 200));
    CHECK(f.erasure_state("R1") == "suppressed");
}

TEST_CASE("plan gives schema-1 requests their erasures and adds workspaces configured later",
          "[store][claims]") {
    test::StoreFixture f;
    f.workspaces = {};
    f.insert(f.request("R1", "alice")); // admitted while no workspace was configured
    // A request of schema 1: suppressed, two attempts made, no erasure.
    f.insert(f.request("R2", "bob"));
    f.db.db().exec("DELETE FROM erasures");
    f.db.db().exec(
        "UPDATE requests SET state = 'suppressed', attempts = 2 WHERE request_id = 'R2'");
    store::WorkerQueue w(f.db, f.clock, "w");
    auto first = w.plan({"default"});
    CHECK(first.upgraded == 2);
    CHECK(f.erasure_state("R2") == "suppressed"); // one workspace: the progress carries over
    CHECK(f.erasure_int("R2", "attempts") == 2);
    CHECK(f.state_of("R2") == "pending");
    CHECK(f.erasure_state("R1") == "pending");
    auto second = w.plan({"default", "eu"});
    CHECK(second.upgraded == 0);
    CHECK(second.added == 2);
    CHECK(f.erasure_state("R2", "eu") == "pending");
    CHECK(w.plan({"default", "eu"}).added == 0);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'erasure.planned'") == 2);
}

TEST_CASE("a linked request with a wider scope widens the active request's", "[store][claims]") {
    test::StoreFixture f;
    f.workspaces = {"eu", "us"};
    auto narrow = f.request("R1", "alice");
    narrow.workspaces = std::vector<std::string>{"us"};
    f.insert(narrow);
    CHECK(f.erasure_state("R1", "eu") == "(none)");
    f.insert(f.request("R2", "alice")); // every workspace, linked to R1
    CHECK(f.erasure_state("R1", "eu") == "pending");
    store::RequestQueue q(f.db, f.clock);
    CHECK_FALSE(q.find("R1")->workspaces.has_value());
}
