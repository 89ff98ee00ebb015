// The database under contention (issue 16, points 6 and 7): a busy database is a transient
// condition; no writer holds the lock while it waits on input.
#include "cli_fixture.hpp"
#include "sandbox_fixture.hpp"
#include "support/process.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
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

namespace {

// A CSV of `rows` requests IMP-0... for distinct people.
std::string big_csv(int rows) {
    std::string csv = "request_id,identifier\n";
    csv.reserve(static_cast<std::size_t>(rows) * 40);
    for (int i = 0; i < rows; ++i) {
        csv += "IMP-" + std::to_string(i) + ",person" + std::to_string(i) + "@example.com\n";
    }
    return csv;
}

std::int64_t count_of(const CliFixture& f, const std::string& sql) {
    SQLite::Database db(f.db_path().string(), SQLite::OPEN_READONLY);
    db.setBusyTimeout(2000);
    return db.execAndGet(sql).getInt64();
}

// Polls `sql` until it counts more than zero, up to `limit`.
bool wait_until_positive(const CliFixture& f, const std::string& sql,
                         std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (count_of(f, sql) > 0) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

} // namespace

TEST_CASE("a large import holds the write lock only briefly: other writers go on meanwhile",
          "[e2e][contention][import]") {
    CliFixture f;
    f.init();
    const std::string file = f.csv("big.csv", big_csv(100'000));
    Process import(argv_of(f, {"import", file}), lethe_env());
    REQUIRE(
        wait_until_positive(f, "SELECT count(*) FROM import_staging", std::chrono::seconds(20)));
    // Before: the import was one transaction, and every enqueue waited for all of it (≈ 7 s).
    std::chrono::steady_clock::duration slowest{};
    for (int i = 0; i < 5; ++i) {
        const auto before = std::chrono::steady_clock::now();
        auto r = f.lethe({"enqueue", "during-" + std::to_string(i), "--id-type", "id",
                          "--request-id", "DURING-" + std::to_string(i)});
        slowest = std::max(slowest, std::chrono::steady_clock::now() - before);
        INFO(r.err);
        CHECK(r.exit_code == 0);
    }
    // The enqueues ran while the import was still at work.
    CHECK_FALSE(import.wait_for(std::chrono::milliseconds(0)));
    CHECK(slowest < std::chrono::seconds(2));
    auto r = import.wait(std::chrono::seconds(120));
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("new requests:      100000") != std::string::npos);
    CHECK(count_of(f, "SELECT count(*) FROM requests") == 100'005);
    CHECK(count_of(f, "SELECT count(*) FROM audit_log WHERE event = 'request.received'") ==
          100'005);
    CHECK(count_of(f, "SELECT count(*) FROM import_staging") == 0);
}

TEST_CASE("kill -9 of an import before its commit point leaves nothing; after it, the import "
          "completes",
          "[e2e][contention][import]") {
    CliFixture f;
    f.init();
    const std::string file = f.csv("big.csv", big_csv(60'000));
    const std::string small = f.csv("small.csv", "request_id,identifier\nS-1,s1@example.com\n");

    SECTION("killed while staging: nothing was imported") {
        Process import(argv_of(f, {"import", file}), lethe_env());
        REQUIRE(wait_until_positive(f, "SELECT count(*) FROM import_staging",
                                    std::chrono::seconds(20)));
        import.signal(SIGKILL);
        import.wait(std::chrono::seconds(10));
        CHECK(count_of(f, "SELECT count(*) FROM requests") == 0);
        CHECK(count_of(f, "SELECT count(*) FROM audit_log WHERE event = 'request.received'") == 0);
        // `lethe status` tells the operator what the dead import left.
        auto status = f.lethe({"status"});
        CHECK(status.exit_code == 0);
        CHECK(
            std::regex_search(status.out, std::regex("import: +stopped, batch [0-9]+, [1-9][0-9]* "
                                                     "rows staged, started ")));
        CHECK(status.out.find("the next import, run or serve discards it") != std::string::npos);
        // The next import discards the dead batch first.
        auto r = f.lethe({"import", small});
        INFO(r.err);
        CHECK(r.exit_code == 0);
        CHECK(count_of(f, "SELECT count(*) FROM requests") == 1);
        CHECK(count_of(f, "SELECT count(*) FROM import_staging") == 0);
        CHECK(count_of(f, "SELECT count(*) FROM import_batches") == 0);
    }
    SECTION("killed while publishing: the next command finishes it") {
        Process import(argv_of(f, {"import", file}), lethe_env());
        REQUIRE(wait_until_positive(f, "SELECT count(*) FROM requests", std::chrono::seconds(60)));
        import.signal(SIGKILL);
        import.wait(std::chrono::seconds(10));
        const auto landed = count_of(f, "SELECT count(*) FROM requests");
        CHECK(landed < 60'000);
        CHECK(count_of(f, "SELECT count(*) FROM import_batches WHERE state = 'committed'") == 1);
        auto status = f.lethe({"status", "--json"});
        REQUIRE(status.exit_code == 0);
        const auto j = nlohmann::json::parse(status.out)["import"];
        CHECK(j["running"] == false);
        REQUIRE(j["batches"].size() == 1);
        CHECK(j["batches"][0]["state"] == "committed");
        CHECK(j["batches"][0]["rows"].get<std::int64_t>() == 60'000 - landed);
        auto r = f.lethe({"import", small});
        INFO(r.err);
        CHECK(r.exit_code == 0);
        CHECK(count_of(f, "SELECT count(*) FROM requests") == 60'001);
        CHECK(count_of(f, "SELECT count(*) FROM audit_log WHERE event = 'request.received'") ==
              60'001);
        CHECK(count_of(f, "SELECT count(*) FROM import_batches") == 0);
        // Importing the big file again adds nothing: every row landed exactly once.
        auto again = f.lethe({"import", file});
        CHECK(again.out.find("already known:     60000") != std::string::npos);
    }
}
