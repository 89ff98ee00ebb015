// Several workspaces of one account (issue 14): every request is erased from each workspace it
// applies to, each workspace is pinned before its first call, and the workspaces proceed
// independently. Judged from the sandbox's side: who is left, and which calls it received.
#include "cli_fixture.hpp"
#include "sandbox_fixture.hpp"
#include "support/process.hpp"
#include "support/tempdir.hpp"

#include <SQLiteCpp/Database.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <thread>

using namespace lethe::test;
using nlohmann::json;

namespace {

struct Ws {
    std::string name;
    std::string region;
    int environment;
};

const std::vector<Ws> k_three = {
    {"us-main", "us", 101}, {"eu-main", "eu", 202}, {"staging", "us", 303}};

std::string key_of(const std::string& ws) {
    return "sk_" + ws + "_0123456789abcdef";
}

std::string env_name(const std::string& ws) {
    std::string e = "LETHE_TEST_KEY_" + ws;
    for (auto& c : e) {
        c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return e;
}

json sandbox_workspace(const Ws& w, json people) {
    return {{"name", w.name},
            {"region", w.region},
            {"site_id", "site-" + w.name},
            {"track_api_key", key_of(w.name)},
            {"app_api_key", "app-" + key_of(w.name)},
            {"environment_id", w.environment},
            {"identify_by", "email_or_id"},
            {"people", std::move(people)}};
}

// lethe's [[workspace]] tables for `spaces`, all pointed at the sandbox; with `app`, each also
// has its App API key (so its erasures are resolved and verified).
std::string config_for(const Sandbox& sandbox, const std::vector<Ws>& spaces,
                       const std::string& worker = "", bool app = false) {
    std::string out;
    for (const auto& w : spaces) {
        out += "[[workspace]]\nname = \"" + w.name + "\"\nregion = \"" + w.region +
               "\"\nsite_id = \"site-" + w.name +
               "\"\nenvironment_id = " + std::to_string(w.environment) + "\napi_key_env = \"" +
               env_name(w.name) + "\"\ntrack_url = \"" + sandbox.url() + "\"\napp_url = \"" +
               sandbox.url() + "\"\n" +
               (app ? "app_api_key_env = \"" + env_name(w.name) + "_APP\"\n" : "") +
               "allow_insecure_loopback = true\ntimeout_ms = 2000\n";
    }
    return out +
           "[worker]\npacing_ms = 0\nmax_attempts = 5\nbackoff_base_ms = 1\n"
           "backoff_max_ms = 5\n" +
           worker;
}

ProcessOptions lethe_env() {
    ProcessOptions o;
    for (const auto& w : k_three) {
        o.env[env_name(w.name)] = key_of(w.name);
        o.env[env_name(w.name) + "_APP"] = "app-" + key_of(w.name);
    }
    o.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM"};
    return o;
}

ProcessResult run_once(const CliFixture& f, std::chrono::seconds limit = std::chrono::seconds(60)) {
    return run({lethe_bin(), "--config", (f.dir / "lethe.toml").string(), "run", "--once"},
               lethe_env(), limit);
}

// Calls of kind suppress/destroy the sandbox received, per workspace.
std::map<std::string, int> erasure_calls(const Sandbox& sandbox) {
    std::map<std::string, int> calls;
    const json state = sandbox.state(); // not a temporary: the loop below reads it
    for (const auto& e : state["log"]) {
        if (e["call"] == "suppress" || e["call"] == "destroy" || e["call"] == "batch") {
            calls[e["workspace"].get<std::string>()]++;
        }
    }
    return calls;
}

std::string sql_text(const CliFixture& f, const std::string& sql) {
    SQLite::Database db(f.db_path().string(), SQLite::OPEN_READONLY);
    return db.execAndGet(sql).getString();
}

std::int64_t sql_int(const CliFixture& f, const std::string& sql) {
    SQLite::Database db(f.db_path().string(), SQLite::OPEN_READONLY);
    return db.execAndGet(sql).getInt64();
}

} // namespace

TEST_CASE("a person in two of three workspaces is erased from both; nobody else is touched",
          "[e2e][workspaces]") {
    TempDir dir;
    json jane = {{"id", "u-1"}, {"email", "jane@example.com"}};
    json bob = {{"id", "u-2"}, {"email", "bob@example.com"}};
    json file = {
        {"workspaces",
         {sandbox_workspace(k_three[0], {jane, bob}), sandbox_workspace(k_three[1], {jane, bob}),
          sandbox_workspace(k_three[2], {bob})}}};
    auto sandbox = Sandbox::with_workspaces(file, (dir.path() / "ws.json").string());
    CliFixture f(config_for(sandbox, k_three, "", /*app=*/true));
    f.init();
    REQUIRE(f.lethe({"enqueue", "jane@example.com", "--request-id", "R1"}).exit_code == 0);
    auto r = run_once(f);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_FALSE(sandbox.has_profile("id", "u-1", "us-main"));
    CHECK_FALSE(sandbox.has_profile("id", "u-1", "eu-main"));
    for (const auto& w : k_three) {
        CHECK(sandbox.has_profile("id", "u-2", w.name)); // the bystander, everywhere
    }
    // Resolved in each: one profile in two, nobody in staging, which records "not present" (and
    // still suppresses the address, so it cannot be added there later).
    CHECK(sql_int(f, "SELECT count(*) FROM audit_log WHERE event = 'erasure.resolved' AND "
                     "json_extract(detail, '$.workspace') = 'staging' AND json_extract(detail, "
                     "'$.not_present') = 1") == 1);
    CHECK(sql_int(f, "SELECT count(*) FROM audit_log WHERE event = 'erasure.resolved' AND "
                     "json_extract(detail, '$.profiles') = 1") == 2);
    // By cio_id where it was found: one batch suppresses the profile and the address, one call
    // deletes the profile; in staging only the address's suppress.
    CHECK(erasure_calls(sandbox) ==
          std::map<std::string, int>{{"eu-main", 2}, {"staging", 1}, {"us-main", 2}});
    CHECK(sql_int(f, "SELECT count(*) FROM audit_log WHERE event = 'call.suppress' AND "
                     "json_extract(detail, '$.target') = 'batch' AND "
                     "json_extract(detail, '$.operations') = 2") == 2);
    CHECK(sql_int(f, "SELECT count(*) FROM erasures WHERE verified = 1") == 3);
    CHECK(sql_text(f, "SELECT state FROM requests WHERE request_id = 'R1'") == "done");
    CHECK(sql_int(f, "SELECT count(*) FROM erasures WHERE state = 'done'") == 3);
    // Invariant 1 per workspace: each erasure's suppress entry comes before its destroy entry.
    for (const auto& w : k_three) {
        INFO(w.name);
        auto order = sql_text(f, "SELECT group_concat(event, ' ') FROM (SELECT event FROM "
                                 "audit_log WHERE event LIKE 'call.%' AND json_extract(detail, "
                                 "'$.workspace') = '" +
                                     w.name + "' ORDER BY seq)");
        CHECK(order == (w.name == "staging"
                            ? "call.resolve call.suppress call.verify"
                            : "call.resolve call.suppress call.destroy call.verify call.verify"));
    }
    auto status = f.lethe({"status"});
    CHECK(status.out.find("us-main") != std::string::npos);
    CHECK(status.out.find("staging") != std::string::npos);
}

TEST_CASE("a request names the workspaces it applies to; the others are not called",
          "[e2e][workspaces]") {
    TempDir dir;
    json jane = {{"id", "u-1"}, {"email", "jane@example.com"}};
    json file = {{"workspaces",
                  {sandbox_workspace(k_three[0], {jane}), sandbox_workspace(k_three[1], {jane}),
                   sandbox_workspace(k_three[2], {jane})}}};
    auto sandbox = Sandbox::with_workspaces(file, (dir.path() / "ws.json").string());
    CliFixture f(config_for(sandbox, k_three));
    f.init();
    auto csv = f.csv("r.csv", "request_id,identifier,workspaces\nR1,u-1,\"eu-main,staging\"\n");
    auto imported = f.lethe({"import", csv});
    INFO(imported.err);
    REQUIRE(imported.exit_code == 0);
    auto bad = f.csv("bad.csv", "request_id,identifier,workspaces\nR2,u-1,eu-west\n");
    auto refused = f.lethe({"import", bad});
    CHECK(refused.exit_code == 4);
    CHECK(refused.err.find("bad.csv:2") != std::string::npos);
    CHECK(refused.err.find("'eu-west' is not a configured workspace") != std::string::npos);
    auto r = run_once(f);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(sandbox.has_profile("id", "u-1", "us-main"));
    CHECK_FALSE(sandbox.has_profile("id", "u-1", "eu-main"));
    CHECK_FALSE(sandbox.has_profile("id", "u-1", "staging"));
    CHECK(erasure_calls(sandbox).count("us-main") == 0);
}

TEST_CASE("one workspace answering 503 does not hold back the others", "[e2e][workspaces]") {
    TempDir dir;
    json people = json::array();
    for (int i = 0; i < 10; ++i) {
        people.push_back({{"id", "p-" + std::to_string(i)}});
    }
    json failing = sandbox_workspace(k_three[1], people);
    failing["faults"] = {{"rate_503", 1.0}};
    json file = {
        {"workspaces",
         {sandbox_workspace(k_three[0], people), failing, sandbox_workspace(k_three[2], people)}}};
    auto sandbox = Sandbox::with_workspaces(file, (dir.path() / "ws.json").string());
    // Slow retries: eu-main's backoff must not delay the other two.
    std::string cfg = config_for(sandbox, k_three);
    cfg.replace(cfg.find("backoff_base_ms = 1"), 19, "backoff_base_ms = 3000");
    cfg.replace(cfg.find("backoff_max_ms = 5"), 18, "backoff_max_ms = 60000");
    cfg += "poll_interval_ms = 100\n";
    CliFixture f(cfg);
    f.init();
    std::string csv = "request_id,identifier\n";
    for (int i = 0; i < 10; ++i) {
        csv += "R" + std::to_string(i) + ",p-" + std::to_string(i) + "\n";
    }
    REQUIRE(f.lethe({"import", f.csv("r.csv", csv)}).exit_code == 0);
    const auto started = std::chrono::steady_clock::now();
    auto r = run_once(f);
    const auto took = std::chrono::steady_clock::now() - started;
    INFO(r.err);
    // The failing workspace cannot even be pinned: it gets no erasure call, the run says so
    // (exit 7, unreachable), and the other two are erased meanwhile.
    REQUIRE(r.exit_code == 7);
    CHECK(r.err.find("workspace eu-main") != std::string::npos);
    CHECK(took < std::chrono::seconds(20));
    for (int i = 0; i < 10; ++i) {
        CHECK_FALSE(sandbox.has_profile("id", "p-" + std::to_string(i), "us-main"));
        CHECK_FALSE(sandbox.has_profile("id", "p-" + std::to_string(i), "staging"));
        CHECK(sandbox.has_profile("id", "p-" + std::to_string(i), "eu-main"));
    }
    CHECK(sql_int(f, "SELECT count(*) FROM erasures WHERE workspace IN ('us-main', 'staging') AND "
                     "state = 'done'") == 20);
    CHECK(sql_int(f, "SELECT count(*) FROM erasures WHERE workspace = 'eu-main' AND state = "
                     "'pending' AND attempts = 0") == 10);
    CHECK(sql_int(f, "SELECT count(*) FROM requests WHERE state = 'done'") == 0);
    CHECK(sql_int(f, "SELECT count(*) FROM audit_log WHERE event = 'workspace.unreachable'") == 1);
    CHECK(erasure_calls(sandbox).count("eu-main") == 0);

    // The workspace answers again, but each call fails for a while: retries stay its own.
    REQUIRE(sandbox.admin(
                "/_sandbox/faults",
                {{"workspace", "eu-main"}, {"rate_503", 0.0}, {"status_for", {"p-=503"}}}) == 200);
    auto again = run_once(f);
    INFO(again.err);
    CHECK(again.exit_code == 0);
    CHECK(sql_int(f, "SELECT count(*) FROM erasures WHERE workspace = 'eu-main' AND state <> "
                     "'done' AND attempts >= 1") == 10);
    auto list = f.lethe({"list", "--json"});
    CHECK(list.out.find("workspace eu-main: suppress: HTTP 503") != std::string::npos);
}

TEST_CASE("a key of another workspace, or an EU workspace configured as us, halts before any "
          "erasure call",
          "[e2e][workspaces]") {
    TempDir dir;
    json jane = {{"id", "u-1"}};
    json file = {{"workspaces",
                  {sandbox_workspace(k_three[0], {jane}), sandbox_workspace(k_three[1], {jane})}}};
    auto sandbox = Sandbox::with_workspaces(file, (dir.path() / "ws.json").string());
    SECTION("environment_id differs") {
        std::vector<Ws> wrong = {k_three[0], {"eu-main", "eu", 999}};
        CliFixture f(config_for(sandbox, wrong));
        f.init();
        REQUIRE(f.lethe({"enqueue", "u-1", "--request-id", "R1"}).exit_code == 0);
        auto r = run_once(f);
        CHECK(r.exit_code == 8);
        CHECK(r.err.find("eu-main") != std::string::npos);
        CHECK(r.err.find("202") != std::string::npos);
        CHECK(sql_int(f, "SELECT count(*) FROM audit_log WHERE event = 'workspace.pin_failed'") >=
              1);
        CHECK(sql_int(f, "SELECT COALESCE(sum(attempts), 0) FROM erasures WHERE workspace = "
                         "'eu-main'") == 0);
        CHECK(erasure_calls(sandbox).count("eu-main") == 0);
    }
    SECTION("an EU workspace configured as us") {
        std::vector<Ws> wrong = {k_three[0], {"eu-main", "us", 202}};
        CliFixture f(config_for(sandbox, wrong));
        f.init();
        REQUIRE(f.lethe({"enqueue", "u-1", "--request-id", "R1"}).exit_code == 0);
        auto r = run_once(f);
        CHECK(r.exit_code == 8);
        CHECK(r.err.find("region") != std::string::npos);
        CHECK(erasure_calls(sandbox).count("eu-main") == 0);
        CHECK(sql_int(f, "SELECT COALESCE(sum(attempts), 0) FROM erasures WHERE workspace = "
                         "'eu-main'") == 0);
    }
}

TEST_CASE("kill -9 during a fan-out leaves every workspace consistent; the next run finishes",
          "[e2e][workspaces]") {
    TempDir dir;
    json people = json::array();
    for (int i = 0; i < 30; ++i) {
        people.push_back({{"id", "p-" + std::to_string(i)}});
    }
    json file = {{"workspaces",
                  {sandbox_workspace(k_three[0], people), sandbox_workspace(k_three[1], people),
                   sandbox_workspace(k_three[2], people)}}};
    auto sandbox =
        Sandbox::with_workspaces(file, (dir.path() / "ws.json").string(), {"--latency-ms", "20"});
    std::string cfg = config_for(sandbox, k_three, "lease_seconds = 1\n");
    cfg.replace(cfg.find("pacing_ms = 0"), 13, "pacing_ms = 50"); // about 1.5 s per workspace
    CliFixture f(cfg);
    f.init();
    std::string csv = "request_id,identifier\n";
    for (int i = 0; i < 30; ++i) {
        csv += "R" + std::to_string(i) + ",p-" + std::to_string(i) + "\n";
    }
    REQUIRE(f.lethe({"import", f.csv("r.csv", csv)}).exit_code == 0);
    auto opts = lethe_env();
    Process worker({lethe_bin(), "--config", (f.dir / "lethe.toml").string(), "run", "--once"},
                   opts);
    // Wait until some erasures are done, then kill it in the middle of the fan-out.
    for (int i = 0; i < 200; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
        auto calls = erasure_calls(sandbox);
        if (calls.size() == 3 && calls["us-main"] >= 6) {
            break;
        }
    }
    worker.signal(SIGKILL);
    worker.wait();
    CHECK(sql_int(f, "SELECT count(*) FROM requests WHERE state = 'done'") < 30);
    // Consistent: a done request has every erasure done; suppressed erasures were suppressed.
    CHECK(sql_int(f, "SELECT count(*) FROM requests r WHERE r.state = 'done' AND EXISTS (SELECT "
                     "1 FROM erasures e WHERE e.request = r.id AND e.state <> 'done')") == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100)); // the leases expire
    auto r = run_once(f);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(sql_int(f, "SELECT count(*) FROM requests WHERE state = 'done'") == 30);
    for (const auto& w : k_three) {
        CHECK(sandbox.profiles(w.name).empty());
    }
    auto verify = f.lethe({"audit", "verify"});
    INFO(verify.err);
    CHECK(verify.exit_code == 0);
}
