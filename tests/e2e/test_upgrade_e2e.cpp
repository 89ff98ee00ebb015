// A database of schema 1, made by the released lethe 0.1.0 (tests/data/schema1/README.md), is
// upgraded in place by this binary and its pending requests are erased.
#include "cli_fixture.hpp"
#include "sandbox_fixture.hpp"
#include "support/tempdir.hpp"

#include <SQLiteCpp/Database.h>
#include <catch2/catch.hpp>
#include <filesystem>

using namespace lethe::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_key = "sk_schema1_fixture_0123456789";

std::int64_t sql_int(const CliFixture& f, const std::string& sql) {
    SQLite::Database db(f.db_path().string(), SQLite::OPEN_READONLY);
    return db.execAndGet(sql).getInt64();
}

std::string state_of(const CliFixture& f, const std::string& request_id) {
    SQLite::Database db(f.db_path().string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT state FROM requests WHERE request_id = ?");
    q.bind(1, request_id);
    return q.executeStep() ? q.getColumn(0).getString() : "(none)";
}

ProcessResult run_once(const CliFixture& f) {
    ProcessOptions o;
    o.env["LETHE_TEST_SCHEMA1_KEY"] = k_key;
    o.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM"};
    return run({lethe_bin(), "--config", (f.dir / "lethe.toml").string(), "run", "--once"}, o,
               std::chrono::seconds(60));
}

} // namespace

TEST_CASE("a schema-1 database upgrades in place and finishes its pending requests",
          "[e2e][upgrade][workspaces]") {
    TempDir dir;
    json people = {{{"id", "p-1"}, {"email", "pending-one@example.com"}},
                   {{"id", "u-pending-2"}},
                   {{"id", "p-3"}, {"email", "bad-person@example.com"}},
                   {{"id", "bystander"}, {"email", "someone@example.com"}}};
    json file = {{"workspaces",
                  {{{"name", "default"},
                    {"region", "us"},
                    {"site_id", "fixture-site"},
                    {"track_api_key", k_key},
                    {"environment_id", 7},
                    {"identify_by", "email_or_id"},
                    {"people", people}}}}};
    auto sandbox = Sandbox::with_workspaces(file, (dir.path() / "ws.json").string());
    // Today's [customerio] section, as the 0.1.0 installation had it.
    CliFixture f("[customerio]\ntrack_url = \"" + sandbox.url() +
                 "\"\nallow_insecure_loopback = true\nsite_id = \"fixture-site\"\n"
                 "api_key_env = \"LETHE_TEST_SCHEMA1_KEY\"\ntimeout_ms = 2000\n"
                 "[worker]\npacing_ms = 0\nmax_attempts = 3\nbackoff_base_ms = 1\n"
                 "backoff_max_ms = 5\n");
    const fs::path data = source_root() / "tests" / "data" / "schema1";
    fs::create_directories(f.dir / "state" / "checkpoints");
    for (const char* name : {"lethe.db", "subject.key", "checkpoint.key"}) {
        fs::copy_file(data / name, f.dir / "state" / name);
        fs::permissions(f.dir / "state" / name, fs::perms::owner_read | fs::perms::owner_write);
    }
    fs::copy_file(data / "latest.note", f.dir / "state" / "checkpoints" / "latest.note");
    REQUIRE(sql_int(f, "PRAGMA user_version") == 1);

    auto status = f.lethe({"status"});
    INFO(status.err);
    REQUIRE(status.exit_code == 0);
    CHECK(sql_int(f, "PRAGMA user_version") >= 2);
    CHECK(status.out.find("pending:     3") != std::string::npos);
    CHECK(status.out.find("done:        2") != std::string::npos);
    // 0.1.0 stored identifiers in plain text (3 pending, 1 dead) and had no identifier key: the
    // worker says what to do, and `lethe init` (the units' ExecStartPre, the cron line's first
    // command) creates the key and seals them.
    auto keyless = run_once(f);
    CHECK(keyless.exit_code == 3);
    CHECK(keyless.err.find("run `lethe init`") != std::string::npos);
    REQUIRE(sql_int(f, "SELECT count(*) FROM requests WHERE typeof(identifier) = 'text'") == 4);
    auto init = f.lethe({"init"});
    INFO(init.err);
    REQUIRE(init.exit_code == 0);
    CHECK(init.out.find("created identifier key") != std::string::npos);
    CHECK(init.out.find("identifiers sealed: 4 requests") != std::string::npos);
    CHECK(sql_int(f, "SELECT count(*) FROM requests WHERE typeof(identifier) = 'text'") == 0);
    CHECK(sql_int(f, "SELECT count(*) FROM requests WHERE typeof(identifier) = 'blob'") == 4);

    auto r = run_once(f);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(state_of(f, "S1-PENDING-1") == "done");
    CHECK(state_of(f, "S1-PENDING-2") == "done");
    CHECK(state_of(f, "S1-LINKED") == "done"); // finished with the request it was linked to
    CHECK(state_of(f, "S1-DEAD") == "dead");   // still dead: only retry revives it
    CHECK_FALSE(sandbox.has_profile("id", "p-1"));
    CHECK_FALSE(sandbox.has_profile("id", "u-pending-2"));
    CHECK(sandbox.has_profile("id", "bystander"));
    CHECK(sql_int(f, "SELECT count(*) FROM audit_log WHERE event = 'request.planned'") == 2);
    CHECK(sql_int(f, "SELECT count(*) FROM requests WHERE identifier IS NOT NULL") == 1);

    REQUIRE(f.lethe({"retry", "S1-DEAD"}).exit_code == 0);
    auto again = run_once(f);
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(state_of(f, "S1-DEAD") == "done");
    CHECK_FALSE(sandbox.has_profile("id", "p-3"));

    // One chain across both schemas, and the checkpoint 0.1.0 signed still matches it.
    auto verify = f.lethe({"audit", "verify", "--checkpoint", (data / "latest.note").string()});
    INFO(verify.out << verify.err);
    CHECK(verify.exit_code == 0);
    CHECK(verify.out.find("size 15, head matches, signature valid") != std::string::npos);
}
