#include "fixture.hpp"
#include "store/claims.hpp"

#include <catch2/catch.hpp>

using namespace lethe;

namespace {
store::CallRecord ok(const char* call) {
    return {call, 200, "success", "", 12, false};
}
store::CallRecord failed(const char* call, long status) {
    return {call, status, "retryable", "HTTP " + std::to_string(status), 30, false};
}
} // namespace

TEST_CASE("claim leases the oldest due request and counts the attempt", "[store][claims]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    f.insert(f.request("R2", "bob"));
    store::WorkerQueue a(f.db, f.clock, "worker-a");
    store::WorkerQueue b(f.db, f.clock, "worker-b");
    auto first = a.claim(60'000);
    auto second = b.claim(60'000);
    REQUIRE(first);
    REQUIRE(second);
    CHECK(first->request_id == "R1");
    CHECK(first->identifier == "alice");
    CHECK(first->attempt == 1);
    CHECK(second->request_id == "R2");
    CHECK_FALSE(a.claim(60'000)); // both leased
}

TEST_CASE("an expired lease lets another worker take the request over", "[store][claims]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    store::WorkerQueue a(f.db, f.clock, "worker-a");
    store::WorkerQueue b(f.db, f.clock, "worker-b");
    auto mine = a.claim(1'000);
    REQUIRE(mine);
    f.clock.advance(999);
    CHECK_FALSE(b.claim(1'000));
    CHECK(a.renew(*mine, 1'000)); // renewal pushes expiry to t+1999
    f.clock.advance(500);
    CHECK_FALSE(b.claim(1'000));
    f.clock.advance(1'000);
    auto theirs = b.claim(1'000);
    REQUIRE(theirs);
    CHECK(theirs->attempt == 2);
    // The first worker has lost the lease: its late result is refused and nothing is written.
    CHECK_FALSE(a.renew(*mine, 1'000));
    CHECK_FALSE(a.record_suppressed(*mine, ok("suppress")));
    CHECK(f.state_of("R1") == "pending");
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event LIKE 'call.%'") == 0);
}

TEST_CASE("suppress then destroy moves to done, scrubs the identifier, finishes linked",
          "[store][claims]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    f.insert(f.request("R2", "alice")); // linked
    store::WorkerQueue w(f.db, f.clock, "w");
    auto r = w.claim(60'000);
    REQUIRE(r);
    CHECK_FALSE(w.claim(60'000)); // the linked request is never claimed on its own
    REQUIRE(w.record_suppressed(*r, ok("suppress")));
    CHECK(f.state_of("R1") == "suppressed");
    r->state = "suppressed";
    REQUIRE(w.record_done(*r, ok("destroy")));
    CHECK(f.state_of("R1") == "done");
    CHECK(f.state_of("R2") == "done");
    CHECK(f.count("SELECT count(*) FROM requests WHERE identifier IS NOT NULL") == 0);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'request.done'") == 2);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'call.suppress'") == 1);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'call.destroy'") == 1);
}

TEST_CASE("a retry is durable: attempts and next attempt live in the database", "[store][claims]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    {
        store::WorkerQueue w(f.db, f.clock, "w1");
        auto r = w.claim(60'000);
        REQUIRE(w.record_retry(*r, failed("suppress", 503), f.clock.now_ms() + 5'000));
    }
    store::WorkerQueue restarted(f.db, f.clock, "w2");
    CHECK_FALSE(restarted.claim(60'000));
    auto outlook = restarted.outlook(0);
    CHECK(outlook.waiting_retry == 1);
    CHECK(outlook.next_attempt_at == f.clock.now_ms() + 5'000);
    f.clock.advance(5'000);
    auto again = restarted.claim(60'000);
    REQUIRE(again);
    CHECK(again->attempt == 2);
    store::RequestQueue q(f.db, f.clock);
    CHECK(q.find("R1")->last_error == "suppress: HTTP 503");
}

TEST_CASE("dead takes linked requests along; retry revives the primary", "[store][claims]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    f.insert(f.request("R2", "alice"));
    store::WorkerQueue w(f.db, f.clock, "w");
    auto r = w.claim(60'000);
    store::CallRecord bad{"suppress", 400, "permanent", "HTTP 400: bad identifier", 10, false};
    REQUIRE(w.record_dead(*r, &bad, "suppress: HTTP 400: bad identifier"));
    CHECK(f.state_of("R1") == "dead");
    CHECK(f.state_of("R2") == "dead");
    store::RequestQueue q(f.db, f.clock);
    CHECK(q.find("R1")->last_error == "suppress: HTTP 400: bad identifier");
    // The linked request says why it died, not only whose death it shared.
    CHECK(q.find("R2")->last_error == "linked to R1: suppress: HTTP 400: bad identifier");
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'request.dead' AND request_ref = "
                  "'R2' AND detail LIKE '%\"via\":\"R1\"%' AND detail LIKE '%bad identifier%'") ==
          1);
    CHECK(q.retry_all_dead("cli:test") == 2);
    CHECK(f.state_of("R1") == "pending");
    CHECK_FALSE(q.find("R1")->linked_to.has_value());
    CHECK(q.find("R2")->linked_to == "R1");
    CHECK(q.find("R1")->attempts == 0);
    CHECK_THROWS_WITH(q.retry({"R1"}, "cli:test"), Catch::Contains("only dead requests"));
}

TEST_CASE("release gives a request back without charging the attempt", "[store][claims]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    store::WorkerQueue w(f.db, f.clock, "w");
    auto r = w.claim(60'000);
    store::CallRecord auth{"suppress", 401, "auth", "HTTP 401", 5, false};
    REQUIRE(w.release(*r, &auth));
    auto again = w.claim(60'000);
    REQUIRE(again);
    CHECK(again->attempt == 1);
    CHECK(f.state_of("R1") == "pending");
}

TEST_CASE("a taken-over claim cannot write even under the same owner name", "[store][claims]") {
    // Two workers in containers can both be "host:1"; the claim's attempt number tells them apart.
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    store::WorkerQueue first(f.db, f.clock, "host:1");
    store::WorkerQueue second(f.db, f.clock, "host:1");
    auto stale = first.claim(1'000);
    REQUIRE(stale);
    f.clock.advance(1'000); // the first worker stalls past its lease
    auto current = second.claim(1'000);
    REQUIRE(current);
    CHECK(current->attempt == stale->attempt + 1);
    store::CallRecord busy{"suppress", 503, "retryable", "HTTP 503", 5, false};
    CHECK_FALSE(first.renew(*stale, 1'000));
    CHECK_FALSE(first.record_retry(*stale, busy, f.clock.now_ms() + 60'000));
    CHECK_FALSE(first.record_dead(*stale, &busy, "suppress: HTTP 503"));
    CHECK_FALSE(first.release(*stale, nullptr));
    CHECK_FALSE(first.record_suppressed(*stale, ok("suppress")));
    // The current holder is untouched and carries on.
    CHECK(f.count("SELECT count(*) FROM requests WHERE lease_owner = 'host:1' AND attempts = 2") ==
          1);
    CHECK(second.renew(*current, 1'000));
    CHECK(second.record_suppressed(*current, ok("suppress")));
    CHECK(f.state_of("R1") == "suppressed");
}
