#include "store/wal_scrub.hpp"
#include "support/tempdir.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

using namespace lethe;

namespace {

std::string bytes_of(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The marker's occurrences in the database file and its WAL.
std::size_t on_disk(const std::filesystem::path& db, const std::string& marker) {
    std::size_t n = 0;
    for (const auto& file : {db, std::filesystem::path(db.string() + "-wal")}) {
        const std::string all = bytes_of(file);
        for (auto at = all.find(marker); at != std::string::npos; at = all.find(marker, at + 1)) {
            ++n;
        }
    }
    return n;
}

} // namespace

TEST_CASE("a WAL scrub leaves no old version of a row on disk while connections stay open",
          "[store][wal]") {
    test::TempDir dir;
    const auto path = dir / "lethe.db";
    store::Database writer(path, store::OpenMode::create);
    store::Database other(path, store::OpenMode::existing); // keeps the WAL from being deleted
    writer.db().exec("CREATE TABLE t (x TEXT)");
    for (int i = 0; i < 50; ++i) {
        writer.db().exec("INSERT INTO t VALUES ('erase.me" + std::to_string(i) + "@example.com')");
    }
    // The rows' new versions (and more writes) go to the WAL; SQLite's own checkpoint (at 1000
    // pages) copies them into the file but leaves the WAL's old frames as they were.
    writer.db().exec("UPDATE t SET x = NULL");
    writer.db().exec("PRAGMA wal_checkpoint(PASSIVE)");
    for (int i = 0; i < 20; ++i) {
        writer.db().exec("INSERT INTO t VALUES (hex(randomblob(200)))");
    }
    CHECK(other.db().execAndGet("SELECT count(*) FROM t WHERE x LIKE 'erase.me%'").getInt() == 0);
    // Without a scrub, the old versions are still there: this is what the scrub is for.
    REQUIRE(on_disk(path, "erase.me") > 0);

    CHECK(store::scrub_wal(writer) == store::ScrubOutcome::truncated);
    CHECK(std::filesystem::file_size(path.string() + "-wal") == 0);
    CHECK(on_disk(path, "erase.me") == 0);
}

TEST_CASE("a WAL scrub that a reader blocks says busy and a later one succeeds", "[store][wal]") {
    test::TempDir dir;
    const auto path = dir / "lethe.db";
    store::Database writer(path, store::OpenMode::create);
    store::Database reader(path, store::OpenMode::existing);
    writer.db().exec("CREATE TABLE t (x TEXT)");
    writer.db().exec("INSERT INTO t VALUES ('old')");
    writer.db().setBusyTimeout(0);
    {
        SQLite::Transaction snapshot(reader.db());
        CHECK(reader.db().execAndGet("SELECT count(*) FROM t").getInt() == 1);
        writer.db().exec("UPDATE t SET x = 'new'");
        CHECK(store::scrub_wal(writer) == store::ScrubOutcome::busy);
    }
    CHECK(store::scrub_wal(writer) == store::ScrubOutcome::truncated);
}
