#include "fixture.hpp"
#include "store/audit_log.hpp"

#include <SQLiteCpp/Transaction.h>
#include <catch2/catch.hpp>

using namespace lethe;

TEST_CASE("appended entries form a chain from the genesis hash", "[store][audit]") {
    test::StoreFixture f;
    {
        SQLite::Transaction tx(f.db.db());
        store::AuditAppender a(f.db.db(), f.clock);
        CHECK(a.append("worker.started", "", "", "{}") == 1);
        f.clock.advance(5);
        CHECK(a.append("request.received", "R1", "abc", R"({"x":1})") == 2);
        tx.commit();
    }
    SQLite::Statement q(f.db.db(), "SELECT seq, at, event, request_ref, subject_digest, detail, "
                                   "prev_hash, hash FROM audit_log ORDER BY seq");
    std::string prev(store::k_genesis_hash);
    int n = 0;
    while (q.executeStep()) {
        store::AuditEntry e{q.getColumn(0).getInt64(),  q.getColumn(1).getString(),
                            q.getColumn(2).getString(), q.getColumn(3).getString(),
                            q.getColumn(4).getString(), q.getColumn(5).getString(),
                            q.getColumn(6).getString(), q.getColumn(7).getString()};
        CHECK(e.prev_hash == prev);
        CHECK(e.hash == store::audit_entry_hash(e));
        prev = e.hash;
        ++n;
    }
    CHECK(n == 2);
    auto head = store::read_chain_head(f.db.db());
    CHECK(head.size == 2);
    CHECK(head.hash == prev);
}

TEST_CASE("the encoding is length-prefixed and domain-separated", "[store][audit]") {
    store::AuditEntry e;
    e.seq = 1;
    e.at = "2026-01-01T00:00:00.000Z";
    e.event = "x";
    e.detail = "{}";
    e.prev_hash = std::string(store::k_genesis_hash);
    std::string enc = store::audit_entry_encoding(e);
    CHECK(enc.substr(0, 4) == std::string("\0\0\0\x0e", 4));
    CHECK(enc.substr(4, 14) == "lethe.audit.v1");
    // Moving a byte from one field to the next changes the hash (no ambiguity).
    store::AuditEntry f = e;
    f.event = "";
    f.request_ref = "x";
    CHECK(store::audit_entry_hash(e) != store::audit_entry_hash(f));
}

TEST_CASE("UPDATE and DELETE on audit_log are refused", "[store][audit]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    CHECK_THROWS_WITH(f.db.db().exec("UPDATE audit_log SET event = 'x'"),
                      Catch::Contains("append-only"));
    CHECK_THROWS_WITH(f.db.db().exec("DELETE FROM audit_log"), Catch::Contains("append-only"));
    CHECK(f.count("SELECT count(*) FROM audit_log") == 1);
}

TEST_CASE("an insert that does not extend the head is refused", "[store][audit]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    auto head = store::read_chain_head(f.db.db());
    auto insert = [&](std::int64_t seq, const std::string& prev) {
        SQLite::Statement q(f.db.db(), "INSERT INTO audit_log (seq, at, event, prev_hash, hash) "
                                       "VALUES (?, 'now', 'forged', ?, 'h')");
        q.bind(1, seq);
        q.bind(2, prev);
        q.exec();
    };
    CHECK_THROWS_WITH(insert(2, std::string(store::k_genesis_hash)),
                      Catch::Contains("does not extend the head"));
    CHECK_THROWS_WITH(insert(3, head.hash), Catch::Contains("does not extend the head"));
    CHECK_THROWS_WITH(insert(1, head.hash), Catch::Contains("does not extend the head"));
    CHECK_NOTHROW(insert(2, head.hash));
}
