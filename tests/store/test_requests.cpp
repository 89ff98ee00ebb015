#include "fixture.hpp"
#include "store/request_views.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>

using namespace lethe;
using store::InsertOutcome;

TEST_CASE("insert creates a pending request with its audit entry", "[store][requests]") {
    test::StoreFixture f;
    auto r = f.request("R1", "alice");
    CHECK(f.insert(r).outcome == InsertOutcome::created);
    store::RequestQueue q(f.db, f.clock);
    auto row = q.find("R1");
    REQUIRE(row);
    CHECK(row->state == "pending");
    REQUIRE(row->identifier);
    CHECK(row->identifier->sealed);
    CHECK(row->identifier->bytes.find("alice") == std::string::npos); // sealed at rest
    CHECK(store::open_identifier(f.db, *row) == "alice");
    CHECK(row->deadline_at == add_calendar_months(r.received_at, 1));
    CHECK(f.erasure_int("R1", "next_attempt_at") == f.clock.now_ms()); // due at once
    REQUIRE(row->erasures.size() == 1);
    CHECK(row->erasures[0].workspace == "default");
    CHECK(row->erasures[0].state == "pending");
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'request.received' AND "
                  "request_ref = 'R1' AND subject_digest = 'digest-alice'") == 1);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE detail LIKE '%alice%'") == 0);
}

TEST_CASE("the same request_id twice is idempotent; other content is a conflict",
          "[store][requests]") {
    test::StoreFixture f;
    auto r = f.request("R1", "alice");
    f.insert(r);
    CHECK(f.insert(r).outcome == InsertOutcome::known);
    auto other = f.request("R1", "bob");
    CHECK(f.insert(other).outcome == InsertOutcome::conflict);
    auto later = r;
    later.received_at += 1000;
    CHECK(f.insert(later).outcome == InsertOutcome::conflict);
    auto defaulted = later;
    defaulted.received_at_given = false; // a defaulted time is not part of the identity
    CHECK(f.insert(defaulted).outcome == InsertOutcome::known);
    CHECK(f.count("SELECT count(*) FROM requests") == 1);
    CHECK(f.count("SELECT count(*) FROM audit_log") == 1);
}

TEST_CASE("a second request for an active subject is linked, not erased twice",
          "[store][requests]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    auto result = f.insert(f.request("R2", "alice"));
    CHECK(result.outcome == InsertOutcome::linked);
    CHECK(result.linked_to == "R1");
    store::RequestQueue q(f.db, f.clock);
    CHECK(q.find("R2")->linked_to == "R1");
    CHECK(q.status().linked == 1);
}

TEST_CASE("a batch that is not committed leaves nothing behind", "[store][requests]") {
    test::StoreFixture f;
    {
        store::WriteBatch batch(f.db, f.clock, f.workspaces);
        batch.insert(f.request("R1", "alice"));
        batch.insert(f.request("R2", "bob"));
    }
    CHECK(f.count("SELECT count(*) FROM requests") == 0);
    CHECK(f.count("SELECT count(*) FROM audit_log") == 0);
}

TEST_CASE("a batch goes on in a new transaction after its commit", "[store][requests]") {
    test::StoreFixture f;
    std::optional<store::WriteBatch> batch(std::in_place, f.db, f.clock, f.workspaces);
    CHECK(batch->insert(f.request("R1", "alice")).outcome == store::InsertOutcome::created);
    batch->commit();
    f.insert(f.request("R2", "bob")); // another writer between the two transactions
    batch->begin_next();
    CHECK(batch->insert(f.request("R1", "alice")).outcome == store::InsertOutcome::known);
    CHECK(batch->insert(f.request("R3", "bob")).outcome == store::InsertOutcome::linked);
    batch->commit();
    batch->begin_next();
    batch->insert(f.request("R4", "carol"));
    batch.reset(); // not committed: R4 is rolled back
    CHECK(f.count("SELECT count(*) FROM requests") == 3);
    // Every entry chains on the one before, whoever wrote it.
    CHECK(f.count("SELECT count(*) FROM audit_log a JOIN audit_log b ON b.seq = a.seq + 1 "
                  "WHERE b.prev_hash = a.hash") == f.count("SELECT count(*) FROM audit_log") - 1);
}

TEST_CASE("cancel: only pending; a linked request takes over", "[store][requests]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    f.insert(f.request("R2", "alice"));
    f.insert(f.request("R3", "alice"));
    store::RequestQueue q(f.db, f.clock);
    q.cancel("R1", "withdrawn by the data subject", "cli:test");
    CHECK(f.state_of("R1") == "cancelled");
    CHECK_FALSE(q.find("R1")->identifier.has_value());
    CHECK_FALSE(q.find("R2")->linked_to.has_value());
    CHECK(q.find("R3")->linked_to == "R2");
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'request.cancelled' AND detail "
                  "LIKE '%withdrawn%'") == 1);
    CHECK_THROWS_AS(q.cancel("R1", "again", "cli:test"), Error);
    CHECK_THROWS_WITH(q.cancel("nope", "x", "cli:test"), Catch::Contains("no such request"));
}

TEST_CASE("extend moves the deadline to three months after receipt, once", "[store][requests]") {
    test::StoreFixture f;
    auto r = f.request("R1", "alice");
    r.received_at = *parse_iso8601("2026-01-31T10:00:00Z");
    f.insert(r);
    store::RequestQueue q(f.db, f.clock);
    CHECK(format_iso8601(q.find("R1")->deadline_at) == "2026-02-28T10:00:00Z");
    q.extend("R1", "complex request", "cli:test");
    CHECK(format_iso8601(q.find("R1")->deadline_at) == "2026-04-30T10:00:00Z");
    CHECK_THROWS_WITH(q.extend("R1", "again", "cli:test"), Catch::Contains("already extended"));
}

TEST_CASE("status counts states, overdue and the oldest pending", "[store][requests]") {
    test::StoreFixture f;
    auto old = f.request("R1", "alice");
    old.received_at = f.clock.now_ms() - 40LL * 86'400'000; // past its one-month deadline
    f.insert(old);
    f.insert(f.request("R2", "bob"));
    store::RequestQueue q(f.db, f.clock);
    auto s = q.status();
    CHECK(s.counts["pending"] == 2);
    CHECK(s.counts["done"] == 0);
    CHECK(s.overdue == 1);
    CHECK(s.oldest_pending_received_at == old.received_at);
    auto overdue = q.list({std::nullopt, true, 0});
    REQUIRE(overdue.size() == 1);
    CHECK(overdue[0].request_id == "R1");
}

TEST_CASE("a request records its sender; another sender's request_id is a conflict",
          "[store][requests][senders]") {
    test::StoreFixture f;
    auto r = f.request("R1", "alice");
    r.source = "http";
    r.sender = "portal";
    r.callback = true;
    CHECK(f.insert(r).outcome == InsertOutcome::created);
    CHECK(f.count("SELECT count(*) FROM requests WHERE sender = 'portal' AND callback = 1") == 1);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'request.received' AND "
                  "json_extract(detail, '$.sender') = 'portal'") == 1);
    CHECK(f.insert(r).outcome == InsertOutcome::known);
    // The same content from another sender: refused, and nothing is written.
    auto other = r;
    other.sender = "form";
    auto result = f.insert(other);
    CHECK(result.outcome == InsertOutcome::conflict);
    CHECK(result.other_sender);
    CHECK(f.count("SELECT count(*) FROM audit_log") == 1);
    // A CSV row (no sender) keeps today's rule: the same content is known.
    auto csv = r;
    csv.sender.clear();
    CHECK(f.insert(csv).outcome == InsertOutcome::known);
    // A linked duplicate learns the active request's sender.
    auto dup = f.request("R2", "alice");
    dup.sender = "form";
    auto linked = f.insert(dup);
    CHECK(linked.outcome == InsertOutcome::linked);
    CHECK(linked.linked_sender == "portal");
}

TEST_CASE("a sender finds only its own requests", "[store][requests][senders]") {
    test::StoreFixture f;
    f.workspaces = {"eu", "us"};
    auto r = f.request("R1", "alice");
    r.sender = "portal";
    f.insert(r);
    auto dup = f.request("R2", "alice");
    dup.sender = "portal";
    f.insert(dup);
    auto v = store::find_sender_request(f.db.db(), "portal", "R1");
    REQUIRE(v);
    CHECK(v->state == "pending");
    CHECK(v->deadline_at == add_calendar_months(r.received_at, 1));
    CHECK_FALSE(v->finished_at);
    REQUIRE(v->erasures.size() == 2);
    CHECK(v->erasures[0].workspace == "eu");
    CHECK(v->erasures[1].state == "pending");
    // A linked request shows the progress of the request that erases the person for it.
    auto linked = store::find_sender_request(f.db.db(), "portal", "R2");
    REQUIRE(linked);
    CHECK(linked->erasures.size() == 2);
    CHECK_FALSE(store::find_sender_request(f.db.db(), "form", "R1"));
    CHECK_FALSE(store::find_sender_request(f.db.db(), "portal", "R3"));
}
