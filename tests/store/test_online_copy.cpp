#include "fixture.hpp"
#include "store/online_copy.hpp"
#include "store/sealing.hpp"
#include "util/fs.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace lethe;
using lethe::test::StoreFixture;

namespace {

std::string bytes_of(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A child process that opens `db` with plain SQLite, reads it, then waits to be killed.
pid_t open_in_child(const std::filesystem::path& db) {
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        sqlite3* handle = nullptr;
        sqlite3_open(db.c_str(), &handle);
        sqlite3_exec(handle, "SELECT count(*) FROM requests", nullptr, nullptr, nullptr);
        (void)!::write(ready[1], "x", 1);
        ::pause();
        ::_exit(0);
    }
    char c;
    ::close(ready[1]);
    REQUIRE(::read(ready[0], &c, 1) == 1);
    ::close(ready[0]);
    return pid;
}

} // namespace

TEST_CASE("process_holding finds another process with the database open, not this one",
          "[store][backup]") {
    StoreFixture f;
    f.insert(f.request("R1", "alice"));
    CHECK_FALSE(store::process_holding(f.db.path()));
    const pid_t child = open_in_child(f.db.path());
    CHECK(store::process_holding(f.db.path()) == child);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK_FALSE(store::process_holding(f.db.path()));
}

TEST_CASE("copy_into writes a standalone copy with identifiers sealed", "[store][backup]") {
    StoreFixture f;
    f.insert(f.request("R1", "alice@example.com"));
    f.insert(f.request("R2", "bob@example.com"));
    store::seal_identifiers(f.db);
    CHECK_FALSE(store::holds_plain_identifiers(f.db));
    std::filesystem::path copy;
    { UniqueFd fd(create_temp_beside(f.dir / "copy.db", copy)); }
    store::copy_into(f.db, copy);
    const std::string bytes = bytes_of(copy);
    CHECK(bytes.rfind("SQLite format 3", 0) == 0);
    CHECK(bytes.find("alice@example.com") == std::string::npos);
    CHECK(bytes.find("bob@example.com") == std::string::npos);
    store::Database opened(copy, store::OpenMode::existing);
    CHECK(opened.db().execAndGet("SELECT count(*) FROM requests").getInt() == 2);

    // A plain identifier (written before sealing) is found.
    f.db.db().exec("UPDATE requests SET identifier = 'carol@example.com' WHERE request_id = 'R1'");
    CHECK(store::holds_plain_identifiers(f.db));
}
