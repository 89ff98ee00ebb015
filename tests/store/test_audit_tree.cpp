#include "fixture.hpp"
#include "store/audit_log.hpp"
#include "store/audit_tree.hpp"
#include "store/migrations.hpp"
#include "util/strings.hpp"

#include <SQLiteCpp/Transaction.h>
#include <catch2/catch.hpp>

using namespace lethe;
namespace merkle = lethe::crypto::merkle;

namespace {

void append_entries(test::StoreFixture& f, int n) {
    SQLite::Transaction tx(f.db.db());
    store::AuditAppender a(f.db.db(), f.clock);
    for (int i = 0; i < n; ++i) {
        a.append("worker.started", "", "", "{}");
        f.clock.advance(1);
    }
    tx.commit();
}

// The tree recomputed in memory from audit_log.hash, seq by seq.
merkle::Frontier tree_of_log(SQLite::Database& db) {
    merkle::Frontier t;
    SQLite::Statement q(db, "SELECT hash FROM audit_log ORDER BY seq");
    while (q.executeStep()) {
        t.push(merkle::leaf_hash(*from_hex(q.getColumn(0).getString())));
    }
    return t;
}

std::int64_t stored_subtrees(SQLite::Database& db) {
    return db.execAndGet("SELECT count(*) FROM audit_tree").getInt64();
}

} // namespace

TEST_CASE("each appended entry stores the subtrees it completes", "[store][audit][merkle]") {
    test::StoreFixture f;
    append_entries(f, 1);
    CHECK(stored_subtrees(f.db.db()) == 0);
    append_entries(f, 2); // 3 entries: (1,0)
    CHECK(stored_subtrees(f.db.db()) == 1);
    append_entries(f, 1); // 4 entries: (1,0), (1,1), (2,0)
    CHECK(stored_subtrees(f.db.db()) == 3);
    append_entries(f, 17); // 21 entries, in three appenders so far
    store::AuditTreeReader reader(f.db.db());
    const auto recomputed = tree_of_log(f.db.db());
    REQUIRE(recomputed.size() == 21);
    CHECK(reader.root(21) == recomputed.root());
    // 21 leaves have 10 + 5 + 2 + 1 complete subtrees of level >= 1.
    CHECK(stored_subtrees(f.db.db()) == 18);
    for (std::int64_t n = 1; n <= 21; ++n) {
        for (std::int64_t i = 0; i < n; ++i) {
            auto proof = merkle::inclusion_proof(i, n, reader.reader());
            REQUIRE(merkle::verify_inclusion(i, n, reader.node({0, i}), proof, reader.root(n)));
        }
    }
}

TEST_CASE("the tree is append-only like the log", "[store][audit][merkle]") {
    test::StoreFixture f;
    append_entries(f, 4);
    CHECK_THROWS_WITH(f.db.db().exec("UPDATE audit_tree SET hash = zeroblob(32)"),
                      Catch::Contains("append-only"));
    CHECK_THROWS_WITH(f.db.db().exec("DELETE FROM audit_tree"), Catch::Contains("append-only"));
}

TEST_CASE("a rolled-back append leaves no subtree behind", "[store][audit][merkle]") {
    test::StoreFixture f;
    append_entries(f, 1);
    {
        SQLite::Transaction tx(f.db.db());
        store::AuditAppender a(f.db.db(), f.clock);
        a.append("worker.started", "", "", "{}");
        CHECK(stored_subtrees(f.db.db()) == 1);
    }
    CHECK(stored_subtrees(f.db.db()) == 0);
    append_entries(f, 1);
    CHECK(store::AuditTreeReader(f.db.db()).root(2) == tree_of_log(f.db.db()).root());
}

TEST_CASE("a log of schema version 5 gets its tree when it is opened", "[store][audit][merkle]") {
    test::TempDir dir;
    const auto path = dir / "old.db";
    {
        // A log written before migration 0007: schema 1 to 5 and 11 chained entries.
        test::StoreFixture source;
        append_entries(source, 11);
        SQLite::Database old(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        for (const auto& m : store::embedded_migrations()) {
            if (m.version <= 5) {
                old.exec(std::string(m.sql));
            }
        }
        old.exec("PRAGMA user_version = 5");
        old.exec("ATTACH DATABASE '" + (source.dir / "lethe.db").string() + "' AS src");
        old.exec("INSERT INTO audit_log SELECT * FROM src.audit_log ORDER BY seq");
        old.exec("DETACH DATABASE src");
    }
    store::Database db(path, store::OpenMode::existing);
    CHECK(db.schema_version() == store::latest_schema_version());
    CHECK(stored_subtrees(db.db()) == 5 + 2 + 1);
    const auto recomputed = tree_of_log(db.db());
    CHECK(store::AuditTreeReader(db.db()).root(11) == recomputed.root());
    // Appending goes on from the backfilled tree.
    FakeClock clock(0);
    {
        SQLite::Transaction tx(db.db());
        store::AuditAppender a(db.db(), clock);
        a.append("worker.started", "", "", "{}");
        tx.commit();
    }
    CHECK(store::AuditTreeReader(db.db()).root(12) == tree_of_log(db.db()).root());
}

TEST_CASE("an appender resumed in a later transaction follows other writers and rollbacks",
          "[store][audit][merkle]") {
    test::StoreFixture f;
    auto& db = f.db.db();
    store::AuditAppender kept(db, f.clock); // the HTTP intake's, kept between batches
    auto append = [&](int n) {
        for (int i = 0; i < n; ++i) {
            kept.append("worker.started", "", "", "{}");
        }
        kept.reset();
    };
    {
        SQLite::Transaction tx(db);
        kept.resume(db);
        append(3);
        tx.commit();
    }
    append_entries(f, 2); // another writer (the worker) in between
    {
        SQLite::Transaction tx(db);
        kept.resume(db);
        append(1);
        tx.commit();
    }
    CHECK(store::AuditTreeReader(db).root(6) == tree_of_log(db).root());
    {
        SQLite::Transaction tx(db);
        kept.resume(db);
        append(2); // rolled back
    }
    append_entries(f, 2); // the same number of entries, other hashes: the frontier must go
    {
        SQLite::Transaction tx(db);
        kept.resume(db);
        append(1);
        tx.commit();
    }
    CHECK(db.execAndGet("SELECT count(*) FROM audit_log").getInt64() == 9);
    CHECK(store::AuditTreeReader(db).root(9) == tree_of_log(db).root());
}
