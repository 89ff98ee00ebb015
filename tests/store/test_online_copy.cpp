#include "fixture.hpp"
#include "store/online_copy.hpp"
#include "store/sealing.hpp"
#include "util/fs.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <optional>
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

// A `sqlite3` shell (another program: a fork of this process would share SQLite's in-process
// lock bookkeeping) that reads `db` and then waits on its open stdin with the database open.
struct ShellHolding {
    pid_t pid = -1;
    int input = -1;

    explicit ShellHolding(const std::filesystem::path& db) {
        int in[2];
        REQUIRE(::pipe(in) == 0);
        pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::dup2(in[0], 0);
            ::close(in[0]);
            ::close(in[1]);
            ::execlp("sqlite3", "sqlite3", db.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(in[0]);
        input = in[1];
        const std::string sql = "SELECT count(*) FROM requests;\n";
        REQUIRE(::write(input, sql.data(), sql.size()) == static_cast<ssize_t>(sql.size()));
    }
    ~ShellHolding() {
        ::close(input);
        int status = 0;
        ::waitpid(pid, &status, 0);
    }
};

// Waits up to 5 s for process_holding to report something.
std::optional<pid_t> wait_for_holder(const std::filesystem::path& db) {
    for (int i = 0; i < 100; ++i) {
        if (auto pid = store::process_holding(db)) {
            return pid;
        }
        ::usleep(50'000);
    }
    return std::nullopt;
}

} // namespace

TEST_CASE("process_holding finds another process with the database open, not this one",
          "[store][backup]") {
    StoreFixture f;
    f.insert(f.request("R1", "alice"));
    CHECK_FALSE(store::process_holding(f.db.path()));
    {
        ShellHolding shell(f.db.path());
        CHECK(wait_for_holder(f.db.path()) == shell.pid);
    }
    CHECK_FALSE(store::process_holding(f.db.path()));
}

TEST_CASE("copy_into writes a standalone copy with identifiers sealed", "[store][backup]") {
    StoreFixture f;
    // Digests that do not contain the identifiers, so only a plain identifier could match.
    for (const auto& [id, who] :
         {std::pair{"R1", "alice@example.com"}, {"R2", "bob@example.com"}}) {
        auto r = f.request(id, who);
        r.subject_digest = std::string("digest-") + id;
        f.insert(r);
    }
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
