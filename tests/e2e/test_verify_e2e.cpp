// Verified erasure (issue 15): with an App API key, every profile the identifier refers to is
// found, erased by its cio_id, and read back as gone; a 2xx alone proves nothing. Judged from
// the sandbox's side: who is left.
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

struct Space {
    std::string name;
    std::string identify_by;
    int environment;
    bool app_key = true;
};

std::string key_of(const std::string& ws) {
    return "sk_" + ws + "_0123456789abcdef";
}

std::string env_of(const std::string& ws, const char* what) {
    std::string e = std::string("LETHE_TEST_") + what + "_" + ws;
    for (auto& c : e) {
        c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return e;
}

json sandbox_space(const Space& w, json people) {
    return {{"name", w.name},
            {"region", "us"},
            {"site_id", "site-" + w.name},
            {"track_api_key", key_of(w.name)},
            {"app_api_key", "app-" + key_of(w.name)},
            {"environment_id", w.environment},
            {"identify_by", w.identify_by},
            {"people", std::move(people)}};
}

std::string config_for(const Sandbox& sandbox, const std::vector<Space>& spaces,
                       const std::string& worker = "") {
    std::string out;
    for (const auto& w : spaces) {
        out += "[[workspace]]\nname = \"" + w.name + "\"\nregion = \"us\"\nsite_id = \"site-" +
               w.name + "\"\nenvironment_id = " + std::to_string(w.environment) +
               "\napi_key_env = \"" + env_of(w.name, "KEY") + "\"\n" +
               (w.app_key ? "app_api_key_env = \"" + env_of(w.name, "APP") + "\"\n" : "") +
               "track_url = \"" + sandbox.url() + "\"\napp_url = \"" + sandbox.url() +
               "\"\nallow_insecure_loopback = true\ntimeout_ms = 2000\n";
    }
    return out +
           "[worker]\npacing_ms = 0\nmax_attempts = 5\nbackoff_base_ms = 1\n"
           "backoff_max_ms = 50\n" +
           worker;
}

ProcessOptions env_for(const std::vector<Space>& spaces) {
    ProcessOptions o;
    for (const auto& w : spaces) {
        o.env[env_of(w.name, "KEY")] = key_of(w.name);
        o.env[env_of(w.name, "APP")] = "app-" + key_of(w.name);
    }
    o.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM"};
    return o;
}

ProcessResult run_once(const CliFixture& f, const std::vector<Space>& spaces) {
    return run({lethe_bin(), "--config", (f.dir / "lethe.toml").string(), "run", "--once"},
               env_for(spaces), std::chrono::seconds(60));
}

std::int64_t sql_int(const CliFixture& f, const std::string& sql) {
    SQLite::Database db(f.db_path().string(), SQLite::OPEN_READONLY);
    return db.execAndGet(sql).getInt64();
}

std::string sql_text(const CliFixture& f, const std::string& sql) {
    SQLite::Database db(f.db_path().string(), SQLite::OPEN_READONLY);
    return db.execAndGet(sql).getString();
}

} // namespace

TEST_CASE("three profiles sharing an e-mail in an id workspace and one elsewhere: all four gone, "
          "verified",
          "[e2e][verify]") {
    TempDir dir;
    const std::vector<Space> spaces = {{"ids", "id", 101}, {"mail", "email_or_id", 202}};
    json shared = {{{"id", "u-1"}, {"email", "Jane@Example.com"}},
                   {{"id", "u-2"}, {"email", "jane@example.com"}},
                   {{"id", "u-3"}, {"email", "JANE@EXAMPLE.COM"}},
                   {{"id", "u-4"}, {"email", "jane@example.org"}}, // bystanders: similar
                   {{"id", "jane@example.com.au"}}};
    json other = {{{"id", "m-1"}, {"email", "jane@example.com"}},
                  {{"id", "m-2"}, {"email", "janet@example.com"}}};
    json file = {
        {"workspaces", {sandbox_space(spaces[0], shared), sandbox_space(spaces[1], other)}}};
    auto sandbox = Sandbox::with_workspaces(file, (dir.path() / "ws.json").string());
    CliFixture f(config_for(sandbox, spaces));
    f.init();
    REQUIRE(f.lethe({"enqueue", "jane@example.com", "--request-id", "R1"}).exit_code == 0);
    auto r = run_once(f, spaces);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    for (const char* id : {"u-1", "u-2", "u-3"}) {
        CHECK_FALSE(sandbox.has_profile("id", id, "ids"));
    }
    CHECK_FALSE(sandbox.has_profile("id", "m-1", "mail"));
    CHECK(sandbox.has_profile("id", "u-4", "ids"));
    CHECK(sandbox.has_profile("id", "jane@example.com.au", "ids"));
    CHECK(sandbox.has_profile("id", "m-2", "mail"));
    CHECK(sql_text(f, "SELECT state FROM requests WHERE request_id = 'R1'") == "done");
    CHECK(sql_int(f, "SELECT count(*) FROM erasures WHERE state = 'done' AND verified = 1") == 2);
    CHECK(sql_int(f, "SELECT json_extract(detail, '$.profiles') FROM audit_log WHERE event = "
                     "'erasure.resolved' AND json_extract(detail, '$.workspace') = 'ids'") == 3);
    CHECK(sql_int(f, "SELECT count(*) FROM audit_log WHERE event = 'erasure.done' AND "
                     "json_extract(detail, '$.verified') = 1") == 2);
    // The cio_ids found were personal data held only until the erasure was verified.
    CHECK(sql_int(f, "SELECT count(*) FROM erasure_profiles") == 0);
    // Nothing of the person or their profiles in the evidence.
    auto exported = f.lethe({"audit", "export"});
    CHECK(exported.out.find("jane") == std::string::npos);
    CHECK(exported.out.find("u-1") == std::string::npos);
    auto list = f.lethe({"list"});
    CHECK(list.out.find("ids:done mail:done") != std::string::npos);
}

TEST_CASE("a phone number is gone where phone is an identifier and where only search finds it",
          "[e2e][verify]") {
    TempDir dir;
    const std::vector<Space> spaces = {{"phones", "email_or_id", 101}, {"ids", "id", 202}};
    json by_phone = {{{"id", "p-1"}, {"phone", "+14155550100"}},
                     {{"id", "p-2"}, {"phone", "+14155550101"}}}; // bystander: one digit off
    json by_search = {{{"id", "s-1"}, {"phone", "+14155550100"}},
                      {{"id", "s-2"}, {"phone", "+441155550100"}}};
    json first = sandbox_space(spaces[0], by_phone);
    first["phone_identifier"] = true;
    json file = {{"workspaces", {first, sandbox_space(spaces[1], by_search)}}};
    auto sandbox = Sandbox::with_workspaces(file, (dir.path() / "ws.json").string());
    CliFixture f(config_for(sandbox, spaces));
    f.init();
    REQUIRE(f.lethe({"enqueue", "+14155550100", "--id-type", "phone", "--request-id", "P1"})
                .exit_code == 0);
    auto r = run_once(f, spaces);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_FALSE(sandbox.has_profile("id", "p-1", "phones"));
    CHECK_FALSE(sandbox.has_profile("id", "s-1", "ids"));
    CHECK(sandbox.has_profile("id", "p-2", "phones"));
    CHECK(sandbox.has_profile("id", "s-2", "ids"));
    CHECK(sql_text(f, "SELECT state FROM requests WHERE request_id = 'P1'") == "done");
    CHECK(sql_int(f, "SELECT count(*) FROM erasures WHERE state = 'done' AND verified = 1") == 2);
    CHECK(f.lethe({"audit", "export"}).out.find("4155550100") == std::string::npos);
}

TEST_CASE("deletes that become visible late are verified after re-checks", "[e2e][verify]") {
    TempDir dir;
    const std::vector<Space> spaces = {{"ws", "email_or_id", 101}};
    json file = {
        {"visibility_delay_ms", 700},
        {"workspaces", {sandbox_space(spaces[0], {{{"id", "p-1"}, {"email", "a@example.com"}}})}}};
    auto sandbox = Sandbox::with_workspaces(file, (dir.path() / "ws.json").string());
    CliFixture f(config_for(sandbox, spaces, "poll_interval_ms = 2000\n"));
    f.init();
    REQUIRE(f.lethe({"enqueue", "a@example.com", "--request-id", "R1"}).exit_code == 0);
    auto r = run_once(f, spaces);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(sql_text(f, "SELECT state FROM requests WHERE request_id = 'R1'") == "done");
    CHECK(sql_int(f, "SELECT verified FROM erasures") == 1);
    CHECK(sql_int(f, "SELECT checks FROM erasures") > 1);
    CHECK(sql_int(f, "SELECT count(*) FROM audit_log WHERE event = 'erasure.still_present'") >= 1);
}

TEST_CASE("a profile still present after the window is erased again, then the request is dead",
          "[e2e][verify]") {
    TempDir dir;
    const std::vector<Space> spaces = {{"ws", "email_or_id", 101}};
    // Deletes stay visible for a minute: longer than the one-second window, twice.
    json file = {{"visibility_delay_ms", 60'000},
                 {"workspaces", {sandbox_space(spaces[0], {{{"id", "p-1"}}})}}};
    auto sandbox = Sandbox::with_workspaces(file, (dir.path() / "ws.json").string());
    CliFixture f(config_for(sandbox, spaces, "poll_interval_ms = 3000\nverify_window_s = 1\n"));
    f.init();
    REQUIRE(f.lethe({"enqueue", "p-1", "--id-type", "id", "--request-id", "R1"}).exit_code == 0);
    auto r = run_once(f, spaces);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(sql_text(f, "SELECT state FROM requests WHERE request_id = 'R1'") == "dead");
    CHECK(sql_text(f, "SELECT last_error FROM requests WHERE request_id = 'R1'") ==
          "workspace ws: profile still present after erasure");
    CHECK(sql_int(f, "SELECT erase_rounds FROM erasures") == 1);
    CHECK(sql_int(f, "SELECT count(*) FROM audit_log WHERE event = 'call.suppress'") >= 2);
}

TEST_CASE("without an App API key an erasure is done but unverified, and says so",
          "[e2e][verify]") {
    TempDir dir;
    std::vector<Space> spaces = {{"ws", "email_or_id", 101, false}};
    json file = {
        {"workspaces", {sandbox_space(spaces[0], {{{"id", "p-1"}, {"email", "b@example.com"}}})}}};
    auto sandbox = Sandbox::with_workspaces(file, (dir.path() / "ws.json").string());
    CliFixture f(config_for(sandbox, spaces));
    f.init();
    REQUIRE(f.lethe({"enqueue", "b@example.com", "--request-id", "R1"}).exit_code == 0);
    auto r = run_once(f, spaces);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("no App API key") != std::string::npos);
    CHECK_FALSE(sandbox.has_profile("id", "p-1", "ws"));
    CHECK(sql_int(f, "SELECT verified FROM erasures") == 0);
    CHECK(sql_int(f, "SELECT count(*) FROM audit_log WHERE event = 'erasure.done' AND "
                     "json_extract(detail, '$.verified') = 0") == 1);
    auto list = f.lethe({"list"});
    CHECK(list.out.find("ws:done(unverified)") != std::string::npos);
    auto status = f.lethe({"status"});
    CHECK(status.out.find("unverified") != std::string::npos);
}

TEST_CASE("kill -9 during verification: the next run resumes and verifies", "[e2e][verify]") {
    TempDir dir;
    const std::vector<Space> spaces = {{"ws", "email_or_id", 101}};
    json people = json::array();
    for (int i = 0; i < 5; ++i) {
        people.push_back({{"id", "p-" + std::to_string(i)}});
    }
    json file = {{"visibility_delay_ms", 2'500},
                 {"workspaces", {sandbox_space(spaces[0], people)}}};
    auto sandbox = Sandbox::with_workspaces(file, (dir.path() / "ws.json").string());
    CliFixture f(config_for(sandbox, spaces, "poll_interval_ms = 5000\nlease_seconds = 1\n"));
    f.init();
    std::string csv = "request_id,identifier,id_type\n";
    for (int i = 0; i < 5; ++i) {
        csv += "R" + std::to_string(i) + ",p-" + std::to_string(i) + ",id\n";
    }
    REQUIRE(f.lethe({"import", f.csv("r.csv", csv)}).exit_code == 0);
    Process worker({lethe_bin(), "--config", (f.dir / "lethe.toml").string(), "run", "--once"},
                   env_for(spaces));
    for (int i = 0; i < 200; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (sql_int(f, "SELECT count(*) FROM erasures WHERE state = 'erased'") == 5) {
            break;
        }
    }
    REQUIRE(sql_int(f, "SELECT count(*) FROM erasures WHERE state = 'erased'") == 5);
    worker.signal(SIGKILL);
    worker.wait();
    CHECK(sql_int(f, "SELECT count(*) FROM requests WHERE state = 'done'") == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1'100)); // the leases expire
    auto r = run_once(f, spaces);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(sql_int(f, "SELECT count(*) FROM requests WHERE state = 'done'") == 5);
    CHECK(sql_int(f, "SELECT count(*) FROM erasures WHERE verified = 1") == 5);
    CHECK(sandbox.profiles("ws").empty());
    CHECK(f.lethe({"audit", "verify"}).exit_code == 0);
}

TEST_CASE("many verified erasures share bulk App API reads: far fewer App calls than erasures",
          "[e2e][verify][batch]") {
    TempDir dir;
    const std::vector<Space> spaces = {{"bulk", "email_or_id", 401}};
    json people = json::array();
    std::string csv = "identifier,request_id\n";
    const int n = 120;
    for (int i = 0; i < n; ++i) {
        const std::string email = "bulk" + std::to_string(i) + "@example.com";
        people.push_back({{"id", "b-" + std::to_string(i)}, {"email", email}});
        csv += email + ",B" + std::to_string(i) + "\n";
    }
    auto sandbox = Sandbox::with_workspaces({{"workspaces", {sandbox_space(spaces[0], people)}}},
                                            (dir.path() / "ws.json").string());
    CliFixture f(config_for(sandbox, spaces));
    f.init();
    REQUIRE(f.lethe({"import", f.csv("bulk.csv", csv)}).exit_code == 0);
    auto r = run_once(f, spaces);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(sql_int(f, "SELECT count(*) FROM erasures WHERE state = 'done' AND verified = 1") == n);
    CHECK(sandbox.profiles("bulk").empty());
    // The sandbox counts every call it answered, by kind.
    const json by_call = sandbox.state()["counters"]["by_call"];
    INFO(by_call.dump());
    const std::int64_t app_calls = by_call.value("bulk_attributes", 0) +
                                   by_call.value("find_by_email", 0) +
                                   by_call.value("attributes", 0) + by_call.value("search", 0);
    CHECK(by_call.value("find_by_email", 0) == 0);
    // One call per erasure and step would be 360.
    CHECK(app_calls <= n / 2);
}
