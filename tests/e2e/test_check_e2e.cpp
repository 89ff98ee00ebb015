// `lethe check` against a sandbox of three workspaces (issue 14): every workspace is checked and
// pinned (environment id, region, host), one line each, and the first failure sets the exit code.
#include "cli_fixture.hpp"
#include "sandbox_fixture.hpp"
#include "support/tempdir.hpp"

#include <catch2/catch.hpp>
#include <map>

using namespace lethe::test;
using nlohmann::json;

namespace {

struct Ws {
    std::string name;
    std::string region;
    std::string site;
    std::string key;
    int environment;
};

const Ws k_us{"us-main", "us", "site-us", "sk_check_us_0123456789ab", 101};
const Ws k_us2{"us-second", "us", "site-us2", "sk_check_us2_0123456789ab", 102};
const Ws k_eu{"eu-main", "eu", "site-eu", "sk_check_eu_0123456789ab", 202};

json sandbox_workspace(const Ws& w, const std::string& track_url = "") {
    json j = {{"name", w.name},
              {"region", w.region},
              {"site_id", w.site},
              {"track_api_key", w.key},
              {"app_api_key", "app-" + w.key},
              {"environment_id", w.environment}};
    if (!track_url.empty()) {
        j["track_url"] = track_url;
    }
    return j;
}

Sandbox three_workspaces(const TempDir& dir, const std::string& eu_track_url = "") {
    json file = {{"workspaces",
                  {sandbox_workspace(k_us), sandbox_workspace(k_us2),
                   sandbox_workspace(k_eu, eu_track_url)}}};
    return Sandbox::with_workspaces(file, (dir.path() / "workspaces.json").string());
}

// One [[workspace]] table: `as` is what lethe is told, `env_var` names its key's variable.
std::string table(const Sandbox& sandbox, const Ws& as, const std::string& env_var) {
    return "[[workspace]]\nname = \"" + as.name + "\"\nregion = \"" + as.region +
           "\"\nsite_id = \"" + as.site + "\"\nenvironment_id = " + std::to_string(as.environment) +
           "\napi_key_env = \"" + env_var + "\"\ntrack_url = \"" + sandbox.url() +
           "\"\nallow_insecure_loopback = true\ntimeout_ms = 2000\n";
}

ProcessResult check(const CliFixture& f, std::map<std::string, std::string> keys) {
    ProcessOptions o;
    o.env = std::move(keys);
    o.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM", "CREDENTIALS_DIRECTORY"};
    return run({lethe_bin(), "--config", (f.dir / "lethe.toml").string(), "check"}, o,
               std::chrono::seconds(60));
}

const std::map<std::string, std::string> k_keys = {
    {"KEY_US", k_us.key}, {"KEY_US2", k_us2.key}, {"KEY_EU", k_eu.key}};

bool has(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

void no_key_in(const ProcessResult& r) {
    for (const auto& [var, key] : k_keys) {
        CHECK_FALSE(has(r.out, key));
        CHECK_FALSE(has(r.err, key));
    }
}

} // namespace

TEST_CASE("check: three workspaces, all pinned and good", "[e2e][check][workspace]") {
    TempDir dir;
    auto sandbox = three_workspaces(dir);
    CliFixture f(table(sandbox, k_us, "KEY_US") + table(sandbox, k_us2, "KEY_US2") +
                 table(sandbox, k_eu, "KEY_EU"));
    auto r = check(f, k_keys);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(has(r.out, "us-main     ok   region us   environment 101   "));
    CHECK(has(r.out, "us-second   ok   region us   environment 102   "));
    CHECK(has(r.out, "eu-main     ok   region eu   environment 202   "));
    CHECK_FALSE(has(r.out, "FAILED"));
    CHECK_FALSE(has(r.err, "environment_id is not set"));
    // None of them has an App API key: each is warned about (its erasures would be unverified).
    CHECK(has(r.err, "workspace us-main: no App API key"));
    CHECK(has(r.err, "workspace eu-main: no App API key"));
    no_key_in(r);
    // Each workspace was asked with its own credentials.
    const json state = sandbox.state();
    std::map<std::string, int> asked;
    for (const auto& e : state["log"]) {
        if (e["call"] == "region") {
            ++asked[e["workspace"].get<std::string>()];
        }
    }
    CHECK(asked == std::map<std::string, int>{{"us-main", 1}, {"us-second", 1}, {"eu-main", 1}});
}

TEST_CASE("check: the credentials of another workspace are an environment mismatch, exit 8",
          "[e2e][check][workspace]") {
    TempDir dir;
    auto sandbox = three_workspaces(dir);
    // us-second is configured with us-main's site id and key (a copy-paste slip).
    Ws wrong = k_us2;
    wrong.site = k_us.site;
    CliFixture f(table(sandbox, k_us, "KEY_US") + table(sandbox, wrong, "KEY_US") +
                 table(sandbox, k_eu, "KEY_EU"));
    auto r = check(f, k_keys);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 8);
    CHECK(has(r.out, "us-main     ok   region us   environment 101"));
    CHECK(has(r.out, "us-second   FAILED   the Track API key belongs to environment 101, not 102"));
    CHECK(has(r.out, "eu-main     ok   region eu   environment 202"));
    CHECK(has(r.err, "lethe: error: workspace us-second: the Track API key belongs to "
                     "environment 101, not 102"));
    no_key_in(r);
}

TEST_CASE("check: an EU workspace configured as us is a pin mismatch, exit 8",
          "[e2e][check][workspace]") {
    TempDir dir;
    auto sandbox = three_workspaces(dir);
    Ws as_us = k_eu;
    as_us.region = "us";
    CliFixture f(table(sandbox, k_us, "KEY_US") + table(sandbox, k_us2, "KEY_US2") +
                 table(sandbox, as_us, "KEY_EU"));
    auto r = check(f, k_keys);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 8);
    CHECK(has(r.out, "eu-main     FAILED   the workspace is in region \"eu\" but region is "
                     "\"us\"; set region = \"eu\""));
    CHECK(has(r.out, "us-main     ok"));
}

TEST_CASE("check: a workspace whose Track API is another host is a pin mismatch, exit 8",
          "[e2e][check][workspace]") {
    TempDir dir;
    auto sandbox = three_workspaces(dir, "https://track-eu.customer.io");
    CliFixture f(table(sandbox, k_eu, "KEY_EU"));
    auto r = check(f, k_keys);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 8);
    CHECK(has(r.out, "eu-main   FAILED   the workspace's Track API is "
                     "https://track-eu.customer.io, not " +
                         sandbox.url()));
}

TEST_CASE("check: a refused key is exit 6; the first failing workspace sets the exit code",
          "[e2e][check][workspace]") {
    TempDir dir;
    auto sandbox = three_workspaces(dir);
    Ws eu_us = k_eu;
    eu_us.region = "us";
    SECTION("one refused key") {
        CliFixture f(table(sandbox, k_us, "KEY_US") + table(sandbox, k_us2, "KEY_WRONG") +
                     table(sandbox, k_eu, "KEY_EU"));
        auto keys = k_keys;
        keys["KEY_WRONG"] = "sk_wrong_key_000000000000";
        auto r = check(f, keys);
        INFO(r.out << r.err);
        CHECK(r.exit_code == 6);
        CHECK(has(r.out, "us-second   FAILED   Customer.io refused the credentials (HTTP 401)"));
        CHECK(has(r.out, "us-main     ok"));
        CHECK(has(r.out, "eu-main     ok"));
        CHECK_FALSE(has(r.out + r.err, "sk_wrong_key"));
        no_key_in(r);
    }
    SECTION("refused before a mismatch: 6, and the error counts the others") {
        CliFixture f(table(sandbox, k_us, "KEY_WRONG") + table(sandbox, k_us2, "KEY_US2") +
                     table(sandbox, eu_us, "KEY_EU"));
        auto keys = k_keys;
        keys["KEY_WRONG"] = "sk_wrong_key_000000000000";
        auto r = check(f, keys);
        INFO(r.out << r.err);
        CHECK(r.exit_code == 6);
        CHECK(has(r.err, "workspace us-main: Customer.io refused the credentials"));
        CHECK(has(r.err, "(and 1 more failing workspace, see above)"));
        CHECK(has(r.out, "eu-main     FAILED"));
    }
    SECTION("a mismatch before a refusal: 8") {
        CliFixture f(table(sandbox, eu_us, "KEY_EU") + table(sandbox, k_us, "KEY_WRONG"));
        auto keys = k_keys;
        keys["KEY_WRONG"] = "sk_wrong_key_000000000000";
        auto r = check(f, keys);
        INFO(r.out << r.err);
        CHECK(r.exit_code == 8);
    }
    SECTION("a key that cannot be resolved: exit 3, the others are still checked") {
        CliFixture f(table(sandbox, k_us, "KEY_UNSET") + table(sandbox, k_eu, "KEY_EU"));
        auto r = check(f, k_keys);
        INFO(r.out << r.err);
        CHECK(r.exit_code == 3);
        CHECK(has(r.out, "us-main   FAILED   "));
        CHECK(has(r.out, "workspace.us-main.api_key_env: environment variable KEY_UNSET is not "
                         "set"));
        CHECK(has(r.out, "eu-main   ok   region eu"));
    }
}

TEST_CASE("check: a config without any workspace fails clearly", "[e2e][check][workspace]") {
    CliFixture f;
    auto r = check(f, {});
    CHECK(r.exit_code == 3);
    CHECK(has(r.err, "no Customer.io workspace is configured: add a [[workspace]] table"));
}
