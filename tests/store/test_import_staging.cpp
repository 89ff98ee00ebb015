#include "fixture.hpp"
#include "store/import_staging.hpp"

#include <SQLiteCpp/Transaction.h>
#include <catch2/catch.hpp>

using namespace lethe;
using store::StageOutcome;

namespace {

// A sleeper that records the pauses instead of taking them.
struct CountingSleeper final : Sleeper {
    void sleep_ms(TimeMs ms) override {
        ++sleeps;
        total_ms += ms;
    }
    int sleeps = 0;
    TimeMs total_ms = 0;
};

struct StagingFixture : test::StoreFixture {
    CountingSleeper sleeper;
    store::ImportLock lock = *store::ImportLock::try_acquire(db);

    store::PublishCounts publish(std::int64_t batch) {
        return store::publish_batch(db, clock, sleeper, batch, workspaces);
    }
};

} // namespace

TEST_CASE("staged rows are invisible until the batch is committed and published",
          "[store][import]") {
    StagingFixture f;
    store::ImportStager stager(f.db, f.clock, f.sleeper, f.lock);
    auto outcomes = stager.stage({f.request("R1", "alice"), f.request("R2", "bob")});
    CHECK(outcomes == std::vector<StageOutcome>{StageOutcome::staged, StageOutcome::staged});
    CHECK(f.count("SELECT count(*) FROM requests") == 0);
    CHECK(f.count("SELECT count(*) FROM audit_log") == 0);
    CHECK(f.count("SELECT count(*) FROM import_staging WHERE identifier LIKE '%alice%'") == 0);
    stager.commit();
    CHECK(f.count("SELECT count(*) FROM requests") == 0); // committed, not yet published

    auto counts = f.publish(stager.batch());
    CHECK(counts.created == 2);
    CHECK(counts.conflicts.empty());
    CHECK(f.state_of("R1") == "pending");
    CHECK(f.erasure_state("R2") == "pending");
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'request.received'") == 2);
    // In staging order, each with its entry.
    CHECK(f.count("SELECT request_ref = 'R1' FROM audit_log ORDER BY seq LIMIT 1") == 1);
    CHECK(f.count("SELECT count(*) FROM import_staging") == 0);
    CHECK(f.count("SELECT count(*) FROM import_batches") == 0);
    store::RequestQueue q(f.db, f.clock);
    CHECK(store::open_identifier(f.db, *q.find("R1")) == "alice");
}

TEST_CASE("a discarded batch leaves nothing behind", "[store][import]") {
    StagingFixture f;
    {
        store::ImportStager stager(f.db, f.clock, f.sleeper, f.lock);
        stager.stage({f.request("R1", "alice")});
        CHECK(f.count("SELECT count(*) FROM import_staging") == 1);
        // Not committed: the destructor discards it.
    }
    CHECK(f.count("SELECT count(*) FROM import_staging") == 0);
    CHECK(f.count("SELECT count(*) FROM import_batches") == 0);
    CHECK(f.count("SELECT count(*) FROM requests") == 0);
    CHECK(f.count("SELECT count(*) FROM audit_log") == 0);
}

TEST_CASE("staging finds what a one-transaction import would: known, conflict, linked",
          "[store][import]") {
    StagingFixture f;
    f.insert(f.request("Q1", "carol"));
    store::ImportStager stager(f.db, f.clock, f.sleeper, f.lock);
    auto other = f.request("R1", "bob");
    auto outcomes = stager.stage({
        f.request("Q1", "carol"),                           // already queued, same content
        f.request("Q1", "dave"),                            // queued with other content
        f.request("R1", "alice"), f.request("R1", "alice"), // staged just before
        other,                                              // staged with other content
        f.request("R2", "carol"),                           // the queued request's person
        f.request("R3", "alice"),                           // the person of a staged row
    });
    CHECK(outcomes == std::vector<StageOutcome>{StageOutcome::known, StageOutcome::conflict,
                                                StageOutcome::staged, StageOutcome::known,
                                                StageOutcome::conflict, StageOutcome::staged,
                                                StageOutcome::staged});
    // Alice's first row is new; her second and Carol's link (as a dry run says).
    const store::StagedForecast forecast = stager.forecast();
    CHECK(forecast.created == 1);
    CHECK(forecast.linked == 2);
    stager.commit();
    auto counts = f.publish(stager.batch());
    CHECK(counts.created == 1);
    CHECK(counts.linked == 2);
    CHECK(f.count("SELECT count(*) FROM requests WHERE linked_to IS NOT NULL") == 2);
}

TEST_CASE("the write lock is free between chunks: another writer never waits for the import",
          "[store][import]") {
    StagingFixture f;
    store::ImportStager stager(f.db, f.clock, f.sleeper, f.lock);
    store::Database other(f.dir / "lethe.db", store::OpenMode::existing);
    other.set_cipher_loader(
        [] { return store::IdentifierCipher({test::StoreFixture::identifier_key()}); });
    std::vector<store::NewRequest> chunk;
    for (int i = 0; i < 50; ++i) {
        chunk.push_back(f.request("R" + std::to_string(i), "p" + std::to_string(i)));
    }
    stager.stage(chunk);
    CHECK(f.sleeper.sleeps == 1); // it yields after each chunk
    // A write of the intake between two chunks, with no busy wait at all.
    other.db().setBusyTimeout(0);
    {
        store::WriteBatch intake(other, f.clock, f.workspaces);
        CHECK(intake.insert(f.request("H1", "henry")).outcome == store::InsertOutcome::created);
        intake.commit();
    }
    stager.commit();
    {
        SQLite::Transaction tx(other.db(), SQLite::TransactionBehavior::IMMEDIATE);
        tx.commit();
    }
    CHECK(f.publish(stager.batch()).created == 50);
    CHECK(f.sleeper.sleeps == 1 + 1); // 50 rows: one publishing chunk
}

TEST_CASE("a request sent while its request_id is staged: other content is refused, the same "
          "content lands once",
          "[store][import]") {
    StagingFixture f;
    store::ImportStager stager(f.db, f.clock, f.sleeper, f.lock);
    stager.stage({f.request("R1", "alice"), f.request("R2", "bob")});
    // Between staging and publishing, the intake gets R1 with other content and R2 again.
    CHECK(f.insert(f.request("R1", "mallory")).outcome == store::InsertOutcome::conflict);
    CHECK(f.insert(f.request("R2", "bob")).outcome == store::InsertOutcome::created);
    stager.commit();
    auto counts = f.publish(stager.batch());
    CHECK(counts.created == 1);
    CHECK(counts.known == 1);
    CHECK(counts.conflicts.empty());
    CHECK(f.count("SELECT count(*) FROM requests") == 2);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'request.received'") == 2);
}

TEST_CASE("recovery discards batches killed before their commit point and publishes the others",
          "[store][import]") {
    StagingFixture f;
    std::int64_t committed = 0;
    {
        store::ImportStager dead(f.db, f.clock, f.sleeper, f.lock);
        dead.stage({f.request("D1", "dora")});
        store::ImportStager landed(f.db, f.clock, f.sleeper, f.lock);
        landed.stage({f.request("L1", "lena"), f.request("L2", "lars")});
        landed.commit();
        committed = landed.batch();
        // A kill -9 here: neither is discarded nor published. Simulated by forgetting `dead`'s
        // destructor's work: its rows are put back as a killed process leaves them.
        f.db.db().exec("CREATE TEMP TABLE keep AS SELECT * FROM import_staging WHERE batch = " +
                       std::to_string(dead.batch()));
        f.db.db().exec("CREATE TEMP TABLE keep_batch AS SELECT * FROM import_batches WHERE id = " +
                       std::to_string(dead.batch()));
    }
    f.db.db().exec("INSERT INTO import_batches SELECT * FROM keep_batch");
    f.db.db().exec("INSERT INTO import_staging SELECT * FROM keep");
    REQUIRE(f.count("SELECT count(*) FROM import_batches") == 2);
    REQUIRE(f.count("SELECT count(*) FROM requests") == 0);

    auto report = store::recover_imports(f.db, f.clock, f.sleeper, f.lock, f.workspaces);
    CHECK(report.discarded_batches == 1);
    CHECK(report.published_batches == 1);
    CHECK(report.published_rows == 2);
    CHECK(f.state_of("L1") == "pending");
    CHECK(f.state_of("L2") == "pending");
    CHECK(f.state_of("D1") == "(none)");
    CHECK(f.count("SELECT count(*) FROM import_staging") == 0);
    CHECK(f.count("SELECT count(*) FROM import_batches") == 0);
    CHECK(committed > 0);
}

TEST_CASE("one import at a time: the import lock is exclusive and released with its holder",
          "[store][import]") {
    StagingFixture f;
    CHECK_FALSE(store::ImportLock::try_acquire(f.db)); // the fixture holds it
    CountingSleeper waits;
    bool told = false;
    CHECK_THROWS_WITH(store::ImportLock::acquire(f.db, waits, 3000, [&] { told = true; }),
                      Catch::Contains("another import held the import lock"));
    CHECK(told);
    CHECK(waits.sleeps == 3);
    { auto released = std::move(f.lock); }
    CHECK(store::ImportLock::try_acquire(f.db));
}

TEST_CASE("an intake sender cannot take a request_id an import has staged", "[store][import]") {
    StagingFixture f;
    store::ImportStager stager(f.db, f.clock, f.sleeper, f.lock);
    stager.stage({f.request("R1", "alice")});
    auto same = f.request("R1", "alice");
    same.sender = "portal";
    const auto result = f.insert(same);
    CHECK(result.outcome == store::InsertOutcome::conflict);
    CHECK(result.other_sender); // said as "in use by a request this sender did not submit"
}

TEST_CASE("import_status shows a running import's batch, and one a killed import left",
          "[store][import]") {
    StagingFixture f;
    CHECK(store::import_status(f.db).running); // the fixture holds the lock
    CHECK(store::import_status(f.db).batches.empty());
    std::int64_t batch = 0;
    {
        store::ImportStager stager(f.db, f.clock, f.sleeper, f.lock);
        stager.stage({f.request("S1", "sam"), f.request("S2", "sue")});
        auto st = store::import_status(f.db);
        REQUIRE(st.batches.size() == 1);
        CHECK(st.batches[0].batch == stager.batch());
        CHECK_FALSE(st.batches[0].committed);
        CHECK(st.batches[0].rows == 2);
        CHECK(st.batches[0].started_at == f.clock.now_ms());
        stager.commit();
        batch = stager.batch();
        CHECK(store::import_status(f.db).batches.at(0).committed);
    }
    // The import is killed after its commit point: the lock goes with the process.
    { auto released = std::move(f.lock); }
    auto st = store::import_status(f.db);
    CHECK_FALSE(st.running);
    REQUIRE(st.batches.size() == 1);
    CHECK(st.batches[0].committed);
    CHECK(st.batches[0].rows == 2);
    // Asking did not take the lock: an import can start at once.
    auto lock = store::ImportLock::try_acquire(f.db);
    REQUIRE(lock);
    f.publish(batch);
    CHECK(store::import_status(f.db).batches.empty());
}

TEST_CASE("import_status does not create the lock file of a database never imported into",
          "[store][import]") {
    test::StoreFixture f;
    CHECK_FALSE(store::import_status(f.db).running);
    CHECK_FALSE(std::filesystem::exists(f.dir / "lethe.db-import.lock"));
}
