// End-to-end tests of credential resolution, `lethe config show` and the log formats, driven
// through the real binary.
#include "cli_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/stat.h>

using namespace lethe::test;

namespace {

const std::string k_key = "e2e-track-key-b41c9d27f0";
const std::string k_site = "e2e-site-1";
// Base64 of "e2e-site-1:e2e-track-key-b41c9d27f0", the HTTP Basic credential.
const std::string k_basic = "ZTJlLXNpdGUtMTplMmUtdHJhY2sta2V5LWI0MWM5ZDI3ZjA=";

// Runs `lethe --config FIXTURE ARGS...` with extra environment.
ProcessResult lethe_env(const CliFixture& f, std::vector<std::string> args,
                        std::map<std::string, std::string> env = {},
                        std::vector<std::string> prefix = {}) {
    std::vector<std::string> argv = prefix;
    argv.push_back(lethe_bin());
    argv.push_back("--config");
    argv.push_back((f.dir / "lethe.toml").string());
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions opts;
    opts.env = std::move(env);
    opts.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM", "CREDENTIALS_DIRECTORY"};
    return run(argv, opts);
}

// Fails the test when the key, or the Basic credential made from it, appears in any output.
void check_no_leak(const ProcessResult& r) {
    for (const std::string* s : {&r.out, &r.err}) {
        CHECK(s->find(k_key) == std::string::npos);
        CHECK(s->find(k_basic) == std::string::npos);
    }
}

std::string customerio(const std::string& source) {
    return "[customerio]\nsite_id = \"" + k_site + "\"\n" + source;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> v;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        v.push_back(line);
    }
    return v;
}

} // namespace

TEST_CASE("config show masks a file secret and says where it came from", "[e2e][secrets]") {
    CliFixture f(customerio("api_key_file = \"track.key\"\n"));
    write_text(f.dir / "track.key", k_key + "\n");
    REQUIRE(::chmod((f.dir / "track.key").c_str(), 0600) == 0);
    auto r = lethe_env(f, {"--log-level", "trace", "config", "show"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("api_key = <set, " + std::to_string(k_key.size()) + " bytes, from file " +
                     (f.dir / "track.key").string() + ">") != std::string::npos);
    CHECK(r.out.find("site_id = \"" + k_site + "\"") != std::string::npos);
    CHECK(r.out.find("api_key_command_timeout_ms = 10000") != std::string::npos);
    CHECK(r.out.find("subject_key = <not created yet: run `lethe init`>") != std::string::npos);
    check_no_leak(r);

    f.init();
    r = lethe_env(f, {"config", "show"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("subject_key = <set, 64 bytes, from file ") != std::string::npos);
    CHECK(r.out.find("checkpoint_key = <set, ") != std::string::npos);
    auto subject_key = read_text(f.dir / "state" / "subject.key");
    CHECK(r.out.find(subject_key.substr(0, 64)) == std::string::npos);
}

TEST_CASE("config show: environment, command and systemd credential sources", "[e2e][secrets]") {
    SECTION("environment") {
        CliFixture f(customerio("api_key_env = \"LETHE_E2E_KEY\"\n"));
        auto r =
            lethe_env(f, {"--log-level", "trace", "config", "show"}, {{"LETHE_E2E_KEY", k_key}});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.find("from environment LETHE_E2E_KEY>") != std::string::npos);
        check_no_leak(r);
    }
    SECTION("command") {
        CliFixture f(customerio("api_key_command = \"/bin/sh -c 'echo " + k_key + "'\"\n"));
        auto r = lethe_env(f, {"--log-level", "trace", "config", "show"});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.find("from command /bin/sh>") != std::string::npos);
        // The configured command line is shown as configured; the key is in it here only because
        // this test puts it there, so look at the masked line alone.
        for (const auto& line : lines_of(r.out)) {
            if (line.rfind("api_key =", 0) == 0) {
                CHECK(line.find(k_key) == std::string::npos);
            }
        }
        CHECK(r.err.find(k_key) == std::string::npos);
    }
    SECTION("systemd credential") {
        CliFixture f(customerio("api_key_env = \"LETHE_E2E_UNSET\"\n"));
        write_text(f.dir / "creds" / "track-api-key", k_key + "\n");
        auto r = lethe_env(f, {"config", "show"},
                           {{"CREDENTIALS_DIRECTORY", (f.dir / "creds").string()}});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.find("from systemd credential track-api-key>") != std::string::npos);
        check_no_leak(r);
    }
}

TEST_CASE("config show lists every workspace with its own masked keys",
          "[e2e][secrets][workspace]") {
    const std::string app_key = "e2e-app-key-77d1c0a9";
    CliFixture f("[[workspace]]\nname = \"us-main\"\nsite_id = \"" + k_site +
                 "\"\nenvironment_id = 101\napi_key_env = \"LETHE_E2E_KEY\"\n"
                 "app_api_key_env = \"LETHE_E2E_APP\"\n"
                 "[[workspace]]\nname = \"eu-main\"\nregion = \"eu\"\nsite_id = \"s2\"\n"
                 "environment_id = 202\n");
    write_text(f.dir / "creds" / "track-api-key.eu-main", "e2e-eu-cred-key-31\n");
    auto r = lethe_env(f, {"config", "show"},
                       {{"LETHE_E2E_KEY", k_key},
                        {"LETHE_E2E_APP", app_key},
                        {"CREDENTIALS_DIRECTORY", (f.dir / "creds").string()}});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    const std::string& out = r.out;
    const auto us = out.find("[[workspace]]\nname = \"us-main\"\nregion = \"us\"\n");
    const auto eu = out.find("[[workspace]]\nname = \"eu-main\"\nregion = \"eu\"\n");
    REQUIRE(us != std::string::npos);
    REQUIRE(eu != std::string::npos);
    CHECK(us < eu);
    CHECK(out.find("environment_id = 101\n") != std::string::npos);
    CHECK(out.find("app_url = \"https://api-eu.customer.io\"\n") != std::string::npos);
    CHECK(out.find("api_key = <set, " + std::to_string(k_key.size()) +
                   " bytes, from environment LETHE_E2E_KEY>") != std::string::npos);
    CHECK(out.find("app_api_key = <set, " + std::to_string(app_key.size()) +
                   " bytes, from environment LETHE_E2E_APP>") != std::string::npos);
    CHECK(out.find("api_key = <set, 18 bytes, from systemd credential track-api-key.eu-main>") !=
          std::string::npos);
    CHECK(out.find("app_api_key = <not configured; without it erasures cannot be verified>") !=
          std::string::npos);
    check_no_leak(r);
    CHECK(out.find(app_key) == std::string::npos);
    CHECK(out.find("e2e-eu-cred-key-31") == std::string::npos);
}

TEST_CASE("config show refuses a loose secret file and exits 3", "[e2e][secrets]") {
    CliFixture f(customerio("api_key_file = \"track.key\"\n"));
    write_text(f.dir / "track.key", k_key + "\n");
    REQUIRE(::chmod((f.dir / "track.key").c_str(), 0640) == 0);
    auto r = lethe_env(f, {"config", "show"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 3);
    CHECK(r.out.find("api_key = <error: ") != std::string::npos);
    CHECK(r.out.find("permissions 0640 are too open") != std::string::npos);
    CHECK(r.out.find("chmod 600 " + (f.dir / "track.key").string()) != std::string::npos);
    CHECK(r.err.find("lethe: error: 1 secret could not be resolved") != std::string::npos);
    check_no_leak(r);
}

TEST_CASE("config show reports a missing or ambiguous source", "[e2e][secrets]") {
    CliFixture none(customerio(""));
    auto r = lethe_env(none, {"config", "show"});
    CHECK(r.exit_code == 3);
    CHECK(r.out.find("no source is configured; set one of customerio.api_key_file, "
                     "customerio.api_key_command or customerio.api_key_env") != std::string::npos);

    CliFixture both(customerio("api_key_env = \"A\"\napi_key_file = \"/x\"\n"));
    r = lethe_env(both, {"config", "show"});
    CHECK(r.exit_code == 3);
    CHECK(r.out.find("several sources are configured (customerio.api_key_file, "
                     "customerio.api_key_env)") != std::string::npos);

    r = lethe_env(both, {"config"});
    CHECK(r.exit_code == 2);
}

TEST_CASE("a failing or hanging command is a clear error without the key", "[e2e][secrets]") {
    SECTION("exit 1") {
        CliFixture f(customerio("api_key_command = \"/bin/sh -c 'echo " + k_key +
                                "; echo denied >&2; exit 1'\"\n"));
        auto r = lethe_env(f, {"config", "show"});
        CHECK(r.exit_code == 3);
        CHECK(r.out.find("`/bin/sh` exited with status 1 (stderr: denied)") != std::string::npos);
        CHECK(r.err.find(k_key) == std::string::npos);
    }
    SECTION("time-out") {
        CliFixture f(
            customerio("api_key_command = \"sleep 5\"\napi_key_command_timeout_ms = 200\n"));
        auto start = std::chrono::steady_clock::now();
        auto r = lethe_env(f, {"config", "show"});
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(4));
        CHECK(r.exit_code == 3);
        CHECK(r.out.find("`sleep` did not finish within 200 ms and was killed") !=
              std::string::npos);
    }
}

TEST_CASE("--log-format json writes one valid object per line, secrets redacted",
          "[e2e][secrets]") {
    // The command writes the key to stderr too: lethe logs that stderr at debug level, with the
    // key replaced.
    CliFixture f(customerio("api_key_command = \"/bin/sh -c 'echo " + k_key +
                            "; echo \\\"note: using key " + k_key + "\\\" >&2'\"\n"));
    auto r = lethe_env(f, {"--log-level", "trace", "--log-format", "json", "config", "show"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto lines = lines_of(r.err);
    REQUIRE(!lines.empty());
    bool saw_stderr_note = false;
    for (const auto& line : lines) {
        INFO(line);
        nlohmann::json j;
        REQUIRE_NOTHROW(j = nlohmann::json::parse(line));
        CHECK(j.contains("ts"));
        CHECK(j.contains("level"));
        CHECK(j["logger"] == "lethe");
        std::string msg = j["msg"];
        if (msg.find("note: using key") != std::string::npos) {
            saw_stderr_note = true;
            CHECK(msg.find("[redacted]") != std::string::npos);
        }
    }
    CHECK(saw_stderr_note);
    CHECK(r.err.find(k_key) == std::string::npos);
}

TEST_CASE("under systemd (JOURNAL_STREAM is stderr) lines carry <N> and no timestamp",
          "[e2e][secrets]") {
    CliFixture f(customerio("api_key_env = \"LETHE_E2E_KEY\"\n"));
    // JOURNAL_STREAM must name the device:inode of stderr itself, as systemd sets it.
    std::vector<std::string> wrapper = {
        "/bin/sh", "-c", "JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec \"$@\"", "sh"};
    auto r = lethe_env(f, {"--log-level", "debug", "config", "show"}, {{"LETHE_E2E_KEY", k_key}},
                       wrapper);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto lines = lines_of(r.err);
    REQUIRE(!lines.empty());
    bool saw_origin = false;
    for (const auto& line : lines) {
        INFO(line);
        REQUIRE(line.size() > 3);
        CHECK(line[0] == '<');
        CHECK(line[2] == '>');
        saw_origin |= line == "<7>debug: customerio.api_key: read from environment LETHE_E2E_KEY";
    }
    CHECK(saw_origin);
    check_no_leak(r);

    // A JOURNAL_STREAM that is not this stderr (output redirected inside a unit): plain lines.
    r = lethe_env(f, {"--log-level", "debug", "config", "show"},
                  {{"LETHE_E2E_KEY", k_key}, {"JOURNAL_STREAM", "1:1"}});
    lines = lines_of(r.err);
    REQUIRE(!lines.empty());
    CHECK(lines[0].find(" lethe[") != std::string::npos);
    CHECK(lines[0].rfind("<", 0) != 0);
}

TEST_CASE("audit keys given as systemd credentials are used, not created beside them",
          "[e2e][secrets]") {
    CliFixture f;
    // Keys made by one installation, handed to another as credentials (as LoadCredential= does).
    CliFixture maker;
    maker.init();
    const auto creds = f.dir / "creds";
    std::filesystem::create_directories(creds);
    std::filesystem::copy_file(maker.dir / "state" / "subject.key", creds / "subject-key");
    std::filesystem::copy_file(maker.dir / "state" / "checkpoint.key", creds / "checkpoint-key");
    const std::map<std::string, std::string> env = {{"CREDENTIALS_DIRECTORY", creds.string()}};

    auto init = lethe_env(f, {"init"}, env);
    INFO(init.out << init.err);
    REQUIRE(init.exit_code == 0);
    CHECK(init.out.find("kept    subject key " + (creds / "subject-key").string()) !=
          std::string::npos);
    CHECK(init.out.find("kept    checkpoint key " + (creds / "checkpoint-key").string()) !=
          std::string::npos);
    CHECK_FALSE(std::filesystem::exists(f.dir / "state" / "subject.key"));
    CHECK_FALSE(std::filesystem::exists(f.dir / "state" / "checkpoint.key"));

    // The same person gets the same digest as under the installation that made the keys.
    REQUIRE(lethe_env(f, {"enqueue", "jane@example.com", "--request-id", "K-1"}, env).exit_code ==
            0);
    REQUIRE(maker.lethe({"enqueue", "jane@example.com", "--request-id", "K-1"}).exit_code == 0);
    auto mine = lethe_env(f, {"audit", "subject", "--json", "jane@example.com"}, env);
    auto theirs = maker.lethe({"audit", "subject", "--json", "jane@example.com"});
    REQUIRE(mine.exit_code == 0);
    REQUIRE(theirs.exit_code == 0);
    CHECK(nlohmann::json::parse(mine.out)["subject_digest"] ==
          nlohmann::json::parse(theirs.out)["subject_digest"]);
    // And the checkpoint is signed with the credential's key.
    CHECK(lethe_env(f, {"audit", "public-key"}, env).out ==
          maker.lethe({"audit", "public-key"}).out);
}

TEST_CASE("a subject key readable by others is refused with the fix", "[e2e][secrets]") {
    CliFixture f;
    f.init();
    REQUIRE(::chmod((f.dir / "state" / "subject.key").c_str(), 0644) == 0);
    auto r = lethe_env(f, {"enqueue", "jane@example.com", "--request-id", "K-1"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("subject.key") != std::string::npos);
    CHECK(r.err.find("chmod 600") != std::string::npos);
    CHECK(r.err.find("jane@example.com") == std::string::npos);
}
