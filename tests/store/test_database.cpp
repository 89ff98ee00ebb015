#include "store/database.hpp"
#include "store/migrations.hpp"
#include "support/tempdir.hpp"
#include "util/error.hpp"

#include <SQLiteCpp/Database.h>
#include <algorithm>
#include <catch2/catch.hpp>
#include <sys/stat.h>

using namespace lethe;

TEST_CASE("a new database is created 0600, in WAL mode, at the latest schema", "[store]") {
    test::TempDir dir;
    auto path = dir / "sub" / "lethe.db";
    store::Database db(path, store::OpenMode::create);
    CHECK(db.schema_version() == store::latest_schema_version());
    CHECK(db.db().execAndGet("PRAGMA journal_mode").getString() == "wal");
    CHECK(db.db().execAndGet("PRAGMA foreign_keys").getInt() == 1);
    CHECK(db.db().execAndGet("PRAGMA synchronous").getInt() == 2); // FULL
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("opening a missing database without create says to run init", "[store]") {
    test::TempDir dir;
    try {
        store::Database db(dir / "none.db", store::OpenMode::existing);
        FAIL("expected an error");
    } catch (const DatabaseError& e) {
        CHECK(std::string(e.what()).find("lethe init") != std::string::npos);
    }
}

TEST_CASE("a database from a newer lethe is refused", "[store]") {
    test::TempDir dir;
    auto path = dir / "lethe.db";
    { store::Database db(path, store::OpenMode::create); }
    {
        SQLite::Database raw(path.string(), SQLite::OPEN_READWRITE);
        raw.exec("PRAGMA user_version = " + std::to_string(store::latest_schema_version() + 1));
    }
    try {
        store::Database db(path, store::OpenMode::existing);
        FAIL("expected an error");
    } catch (const DatabaseError& e) {
        CHECK(std::string(e.what()).find("newer than this lethe supports") != std::string::npos);
    }
}

TEST_CASE("a foreign SQLite file is not migrated", "[store]") {
    test::TempDir dir;
    auto path = dir / "other.db";
    {
        SQLite::Database raw(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        raw.exec("CREATE TABLE t (x)");
    }
    CHECK_THROWS_AS(store::Database(path, store::OpenMode::existing), DatabaseError);
}

TEST_CASE("a file that is not SQLite is refused with a database error", "[store]") {
    test::TempDir dir;
    test::write_text(dir / "junk.db", std::string(8192, 'x'));
    CHECK_THROWS_AS(store::Database(dir / "junk.db", store::OpenMode::existing), DatabaseError);
}

TEST_CASE("migrations are numbered from 1 without gaps but reserved numbers", "[store]") {
    const auto& all = store::embedded_migrations();
    const auto& reserved = store::reserved_migration_versions();
    REQUIRE_FALSE(all.empty());
    int expected = 1;
    for (const auto& m : all) {
        while (std::find(reserved.begin(), reserved.end(), expected) != reserved.end()) {
            ++expected;
        }
        CHECK(m.version == expected);
        ++expected;
    }
    for (int r : reserved) {
        CHECK(r < all.back().version); // a reservation only ever fills a gap
    }
}
