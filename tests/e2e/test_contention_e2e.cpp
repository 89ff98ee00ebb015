// The database under contention (issue 16, points 6 and 7): a busy database is a transient
// condition; no writer holds the lock while it waits on input.
#include "cli_fixture.hpp"
#include "sandbox_fixture.hpp"
#include "support/process.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

using namespace lethe::test;
using nlohmann::json;

namespace {

std::string config_for(const Sandbox& sandbox) {
    return "[customerio]\ntrack_url = \"" + sandbox.url() +
           "\"\nallow_insecure_loopback = true\nsite_id = \"" + Sandbox::k_site_id +
           "\"\napi_key_env = \"LETHE_TEST_TRACK_KEY\"\ntimeout_ms = 2000\n"
           "[worker]\npacing_ms = 0\nmax_attempts = 3\nbackoff_base_ms = 1\nbackoff_max_ms = 5\n";
}

ProcessOptions lethe_env() {
    ProcessOptions o;
    o.env["LETHE_TEST_TRACK_KEY"] = Sandbox::k_api_key;
    o.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM", "CREDENTIALS_DIRECTORY"};
    return o;
}

std::vector<std::string> argv_of(const CliFixture& f, std::vector<std::string> args) {
    std::vector<std::string> argv = {lethe_bin(), "--config", (f.dir / "lethe.toml").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

} // namespace

TEST_CASE("import - waiting on its input holds no lock: others write meanwhile",
          "[e2e][contention]") {
    CliFixture f;
    f.init();
    // stdin stays open for 6 s: the import has not read all of its input until then.
    const std::string cmd = "(printf 'request_id,identifier\\nSLOW-1,slow@example.com\\n'; "
                            "sleep 6) | '" +
                            lethe_bin() + "' --config '" + (f.dir / "lethe.toml").string() +
                            "' import -";
    Process slow({"/bin/sh", "-c", cmd}, lethe_env());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto before = std::chrono::steady_clock::now();
    auto quick = f.lethe({"enqueue", "quick-person", "--id-type", "id", "--request-id", "QUICK"});
    const auto took = std::chrono::steady_clock::now() - before;
    INFO(quick.err);
    CHECK(quick.exit_code == 0);
    CHECK(took < std::chrono::seconds(3)); // not the 10 s busy timeout, nor its failure
    auto r = slow.wait(std::chrono::seconds(30));
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("new requests:      1") != std::string::npos);
}

TEST_CASE("a write lock held past the busy timeout: the worker and a second import wait, then "
          "finish; nobody is charged",
          "[e2e][contention]") {
    Sandbox sandbox;
    CliFixture f(config_for(sandbox));
    f.init();
    json people = json::array();
    std::string csv = "request_id,identifier\n";
    for (int i = 0; i < 5; ++i) {
        const std::string email = "busy" + std::to_string(i) + "@example.com";
        people.push_back({{"id", "uid-busy" + std::to_string(i)}, {"email", email}});
        csv += "BUSY-" + std::to_string(i) + "," + email + "\n";
    }
    sandbox.seed(people);
    REQUIRE(f.lethe({"import", f.csv("a.csv", csv)}).exit_code == 0);
    const std::string second = f.csv("b.csv", "request_id,identifier\nLATE-1,late@example.com\n");

    // Another writer (an import of a million rows, say) holds the lock for 12 s: longer than
    // SQLite's 10 s busy timeout of each connection.
    std::optional<SQLite::Database> holder;
    holder.emplace(f.db_path().string(), SQLite::OPEN_READWRITE);
    std::optional<SQLite::Transaction> lock;
    lock.emplace(*holder, SQLite::TransactionBehavior::IMMEDIATE);
    Process worker(argv_of(f, {"run", "--once"}), lethe_env());
    Process import(argv_of(f, {"import", second}), lethe_env());
    std::this_thread::sleep_for(std::chrono::seconds(12));
    CHECK(!worker.wait_for(std::chrono::milliseconds(0))); // waiting, not halted
    CHECK(!import.wait_for(std::chrono::milliseconds(0)));
    lock->commit();
    lock.reset();
    holder.reset();

    auto w = worker.wait(std::chrono::seconds(60));
    INFO(w.err);
    CHECK(w.exit_code == 0);
    CHECK(w.err.find("the database is busy") != std::string::npos);
    CHECK(w.err.find("halted") == std::string::npos);
    auto i = import.wait(std::chrono::seconds(60));
    INFO(i.err);
    CHECK(i.exit_code == 0);
    CHECK(i.err.find("holds the database's write lock") != std::string::npos);
    SQLite::Database db(f.db_path().string(), SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT count(*) FROM requests WHERE request_id LIKE 'BUSY-%' AND state = "
                        "'done'")
              .getInt() == 5);
    // Each erasure was charged for its calls only: one claim each, never one for the lock.
    CHECK(db.execAndGet("SELECT max(attempts) FROM erasures").getInt() == 1);
    CHECK(db.execAndGet("SELECT count(*) FROM requests WHERE request_id = 'LATE-1'").getInt() == 1);
    CHECK_FALSE(sandbox.has_profile("email", "busy3@example.com"));
}
