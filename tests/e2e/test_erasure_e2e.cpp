// Erasure judged from the sandbox's side: real profiles in workspaces with Customer.io's
// identifier rules, and afterwards the question is who is still there, not what lethe printed.
#include "cli_fixture.hpp"
#include "sandbox_fixture.hpp"
#include "support/tempdir.hpp"

#include <catch2/catch.hpp>

using namespace lethe::test;
using nlohmann::json;

namespace {

constexpr const char* k_key_a = "sk_ws_a_0123456789abcdef";
constexpr const char* k_key_b = "sk_ws_b_0123456789abcdef";

json workspace(const std::string& name, const std::string& site, const std::string& key,
               int environment, const std::string& identify_by, json people) {
    return {{"name", name},
            {"region", "us"},
            {"site_id", site},
            {"track_api_key", key},
            {"app_api_key", "app-" + key},
            {"environment_id", environment},
            {"identify_by", identify_by},
            {"people", std::move(people)}};
}

// lethe pointed at the sandbox with one workspace's Track credentials.
std::string config_for(const Sandbox& sandbox, const std::string& site) {
    return "[customerio]\ntrack_url = \"" + sandbox.url() +
           "\"\nallow_insecure_loopback = true\nsite_id = \"" + site +
           "\"\napi_key_env = \"LETHE_TEST_TRACK_KEY\"\ntimeout_ms = 2000\n"
           "[worker]\npacing_ms = 0\nmax_attempts = 3\nbackoff_base_ms = 1\nbackoff_max_ms = 5\n";
}

ProcessResult run_once(const CliFixture& f, const std::string& key) {
    ProcessOptions o;
    o.env["LETHE_TEST_TRACK_KEY"] = key;
    o.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM"};
    return run({lethe_bin(), "--config", (f.dir / "lethe.toml").string(), "run", "--once"}, o,
               std::chrono::seconds(60));
}

} // namespace

// Without an App API key nothing can find the profiles that hold an e-mail in a workspace that
// identifies people by id: the typed suppress is refused (400), and the request goes dead with
// that reason instead of "done" while Jane stays (test_verify_e2e.cpp erases her with the key).
TEST_CASE("an e-mail request in an id workspace without an App API key is dead, not done",
          "[e2e][erasure]") {
    TempDir dir;
    json file = {{"workspaces",
                  {workspace("ids", "site-ids", k_key_a, 101, "id",
                             {{{"id", "u-1"}, {"email", "jane@example.com"}},
                              {{"id", "u-2"}, {"email", "bob@example.com"}}})}}};
    auto sandbox = Sandbox::with_workspaces(file, (dir.path() / "workspaces.json").string());
    CliFixture f(config_for(sandbox, "site-ids"));
    f.init();
    REQUIRE(f.lethe({"enqueue", "jane@example.com", "--request-id", "R1"}).exit_code == 0);
    auto r = run_once(f, k_key_a);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(sandbox.has_profile("id", "u-2", "ids")); // the bystander
    auto list = f.lethe({"list", "--json"});
    CHECK(list.out.find("\"state\":\"dead\"") != std::string::npos);
    CHECK(list.out.find("e-mail is not an identifier of this workspace") != std::string::npos);
    CHECK(list.out.find("jane@example.com") == std::string::npos);
}

TEST_CASE("the key decides the workspace: only its people are erased", "[e2e][erasure]") {
    TempDir dir;
    json jane = {{"id", "u-1"}, {"email", "Jane@Example.com"}};
    json file = {{"workspaces",
                  {workspace("us-main", "site-a", k_key_a, 101, "email_or_id",
                             {jane, {{"id", "u-2"}, {"email", "jane@example.org"}}}),
                   workspace("eu-main", "site-b", k_key_b, 202, "email_or_id", {jane})}}};
    auto sandbox = Sandbox::with_workspaces(file, (dir.path() / "workspaces.json").string());
    CliFixture f(config_for(sandbox, "site-a"));
    f.init();
    // Lower case: e-mails match case-insensitively in an email_or_id workspace.
    REQUIRE(f.lethe({"enqueue", "jane@example.com", "--request-id", "R1"}).exit_code == 0);
    auto r = run_once(f, k_key_a);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_FALSE(sandbox.has_profile("id", "u-1", "us-main"));
    CHECK(sandbox.has_profile("id", "u-2", "us-main")); // a bystander with a similar address
    CHECK(sandbox.has_profile("id", "u-1", "eu-main")); // another workspace: untouched today
    const json state = sandbox.state();
    bool blocked = false;
    for (const auto& b : state["workspaces"]["us-main"]["blocked"]) {
        blocked = blocked || (b["type"] == "email" && b["value"] == "jane@example.com");
    }
    CHECK(blocked); // the suppression keeps the e-mail from being added again
    for (const auto& e : state["log"]) {
        if (e["call"] == "suppress" || e["call"] == "destroy") {
            CHECK(e["workspace"] == "us-main");
        }
    }
}
