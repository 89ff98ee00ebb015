// End-to-end tests of issue 5 with the real binaries: `lethe check`, TLS trust, loopback-only
// http, credential rotation by SIGHUP during a run, and a search of every byte lethe leaves
// behind for secrets and raw identifiers.
#include "certificate.hpp"
#include "cli_fixture.hpp"
#include "config/secrets.hpp"
#include "sandbox_fixture.hpp"
#include "util/fs.hpp"

#include <SQLiteCpp/Database.h>
#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <thread>

using namespace lethe::test;
using nlohmann::json;

namespace {

std::string track_config(const std::string& url, const std::string& extra = "") {
    return "[customerio]\ntrack_url = \"" + url + "\"\nallow_insecure_loopback = true\n" +
           "site_id = \"" + Sandbox::k_site_id + "\"\napi_key_file = \"track.key\"\n" +
           "timeout_ms = 2000\n" + extra;
}

void write_key(const CliFixture& f, const std::string& key) {
    write_text(f.dir / "track.key", key + "\n");
    ::chmod((f.dir / "track.key").c_str(), 0600);
}

ProcessResult lethe_run(const CliFixture& f, std::vector<std::string> args) {
    std::vector<std::string> argv = {lethe_bin(), "--config", (f.dir / "lethe.toml").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions o;
    o.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM", "CREDENTIALS_DIRECTORY"};
    return run(argv, o, std::chrono::seconds(60));
}

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

int count_in(const std::string& hay, const std::string& needle) {
    int n = 0;
    for (auto pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + 1)) {
        ++n;
    }
    return n;
}

} // namespace

TEST_CASE("check: good, bad and region-mismatched credentials, unreachable host",
          "[e2e][security][check]") {
    SECTION("good credentials: region and environment id, exit 0") {
        Sandbox sandbox({"--environment-id", "4242"});
        CliFixture f(track_config(sandbox.url()));
        write_key(f, Sandbox::k_api_key);
        auto r = lethe_run(f, {"check"});
        INFO(r.err);
        CHECK(r.exit_code == 0);
        // A [customerio] config is the workspace "default"; it does not pin environment_id, so
        // check suggests the line to add.
        CHECK(r.out.find("default   ok   region us   environment 4242   ") != std::string::npos);
        CHECK(r.err.find("lethe: warning: workspace default: environment_id is not set") !=
              std::string::npos);
        CHECK(r.err.find("add environment_id = 4242 to [customerio]") != std::string::npos);
        CHECK(r.out.find(Sandbox::k_api_key) == std::string::npos);
    }
    SECTION("a pinned [customerio] environment_id: no warning; another one is exit 8") {
        Sandbox sandbox({"--environment-id", "4242"});
        CliFixture good(track_config(sandbox.url(), "environment_id = 4242\n"));
        write_key(good, Sandbox::k_api_key);
        auto r = lethe_run(good, {"check"});
        CHECK(r.exit_code == 0);
        CHECK(r.err.find("environment_id is not set") == std::string::npos);
        CliFixture other(track_config(sandbox.url(), "environment_id = 17\n"));
        write_key(other, Sandbox::k_api_key);
        r = lethe_run(other, {"check"});
        CHECK(r.exit_code == 8);
        CHECK(r.err.find("the Track API key belongs to environment 4242, not 17") !=
              std::string::npos);
    }
    SECTION("a wrong key: exit 6, the key is not printed") {
        Sandbox sandbox;
        CliFixture f(track_config(sandbox.url()));
        write_key(f, "sk_wrong_key_0000000000");
        auto r = lethe_run(f, {"check"});
        CHECK(r.exit_code == 6);
        CHECK(r.err.find("refused the credentials (HTTP 401)") != std::string::npos);
        CHECK(r.err.find("sk_wrong_key") == std::string::npos);
        CHECK(r.out.find("sk_wrong_key") == std::string::npos);
    }
    SECTION("an EU workspace configured as US: exit 8 with the fix") {
        Sandbox sandbox({"--region", "eu"});
        CliFixture f(track_config(sandbox.url(), "region = \"us\"\n"));
        write_key(f, Sandbox::k_api_key);
        auto r = lethe_run(f, {"check"});
        CHECK(r.exit_code == 8);
        CHECK(r.err.find("set region = \"eu\"") != std::string::npos);
    }
    SECTION("nobody listening: exit 7") {
        CliFixture f(track_config("http://127.0.0.1:" + std::to_string(free_port())));
        write_key(f, Sandbox::k_api_key);
        auto r = lethe_run(f, {"check"});
        CHECK(r.exit_code == 7);
        CHECK(r.err.find("cannot reach") != std::string::npos);
    }
}

TEST_CASE("plain http is refused for any host but loopback", "[e2e][security]") {
    for (const std::string url :
         {"http://10.1.2.3", "http://track.customer.io", "http://localhost.example.com:8080"}) {
        CliFixture f(track_config(url));
        write_key(f, Sandbox::k_api_key);
        auto r = lethe_run(f, {"check"});
        INFO(url << ": " << r.err);
        CHECK(r.exit_code == 3);
        CHECK(r.err.find("https") != std::string::npos);
    }
}

TEST_CASE("check over HTTPS works only when the sandbox certificate is trusted",
          "[e2e][security][tls]") {
    TempDir certs;
    auto cert = self_signed(certs.path());
    Sandbox sandbox({"--tls-cert", cert.cert.string(), "--tls-key", cert.key.string()});
    REQUIRE(sandbox.url().rfind("https://", 0) == 0);
    {
        CliFixture f(track_config(sandbox.url()));
        write_key(f, Sandbox::k_api_key);
        auto r = lethe_run(f, {"check"});
        CHECK(r.exit_code == 7);
        CHECK(r.err.find("certificate") != std::string::npos);
    }
    {
        CliFixture f(track_config(sandbox.url(), "ca_file = \"" + cert.cert.string() + "\"\n"));
        write_key(f, Sandbox::k_api_key);
        auto r = lethe_run(f, {"check"});
        INFO(r.err);
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("default   ok   region us") != std::string::npos);
    }
    // Only the trusted attempt reached the API; the other stopped at the TLS handshake.
    CHECK(sandbox.state()["counters"]["requests"] == 1);
}

TEST_CASE("SIGHUP during a run: the new key is used and no request fails",
          "[e2e][security][rotation]") {
    Sandbox sandbox({"--latency-ms", "20"});
    const std::string old_key = Sandbox::k_api_key;
    const std::string new_key = "sk_test_rotated_5a4b3c2d1e";
    CliFixture f(track_config(sandbox.url(),
                              "[worker]\npacing_ms = 40\nconcurrency = 2\nlease_seconds = 5\n"
                              "max_attempts = 3\nbackoff_base_ms = 1\nbackoff_max_ms = 10\n"
                              "poll_interval_ms = 20\n"));
    write_key(f, old_key);
    f.init();
    std::string csv = "request_id,identifier\n";
    for (int i = 0; i < 60; ++i) {
        csv += "ROT-" + std::to_string(i) + ",rotate" + std::to_string(i) + "@example.com\n";
    }
    REQUIRE(f.lethe({"import", f.csv("r.csv", csv)}).exit_code == 0);

    Process worker({lethe_bin(), "--config", (f.dir / "lethe.toml").string(), "run"}, [] {
        ProcessOptions o;
        o.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM", "CREDENTIALS_DIRECTORY"};
        return o;
    }());
    auto calls = [&sandbox] {
        return sandbox.state()["counters"].value("requests", 0);
    };
    for (int i = 0; i < 200 && calls() < 10; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // The runbook: the workspace accepts both keys, the secret is updated, the worker reloads.
    REQUIRE(sandbox.admin("/_sandbox/credentials", {{"site_id", Sandbox::k_site_id},
                                                    {"api_key", new_key},
                                                    {"also_accept", {old_key}}}) == 200);
    write_key(f, new_key);
    worker.signal(SIGHUP);
    for (int i = 0;
         i < 200 && worker.stderr_so_far().find("new credentials in use") == std::string::npos;
         ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // Then the old key is revoked: from here on only the new key works.
    REQUIRE(sandbox.admin("/_sandbox/credentials",
                          {{"site_id", Sandbox::k_site_id}, {"api_key", new_key}}) == 200);
    const int calls_at_revoke = calls();
    for (int i = 0; i < 500; ++i) {
        auto s = json::parse(f.lethe({"status", "--json"}).out);
        if (s["counts"]["done"] == 60) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    worker.signal(SIGTERM);
    auto r = worker.wait(std::chrono::seconds(20));
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("new credentials in use") != std::string::npos);
    auto s = json::parse(f.lethe({"status", "--json"}).out);
    CHECK(s["counts"]["done"] == 60);
    CHECK(s["counts"]["dead"] == 0);
    // Calls were made after the revocation (so they used the new key), and none was refused.
    CHECK(calls() > calls_at_revoke);
    // Keep the state alive: a range-for over a member of a temporary would read freed memory.
    const nlohmann::json state = sandbox.state();
    for (const auto& e : state["log"]) {
        CHECK(e["auth_valid"] == true);
    }
    CHECK(r.err.find(new_key) == std::string::npos);
    CHECK(r.err.find(old_key) == std::string::npos);
}

TEST_CASE("no secret or erased identifier in any output, database, export or checkpoint",
          "[e2e][security][leak]") {
    // Faults make every code path log: retries, 429 pauses, resets, a permanent failure.
    Sandbox sandbox({"--rate-429", "0.1", "--retry-after", "0", "--rate-503", "0.1", "--rate-reset",
                     "0.05", "--status-for", "keepme=400", "--seed", "11"});
    CliFixture f(track_config(sandbox.url(), "[worker]\npacing_ms = 0\nconcurrency = 3\n"
                                             "max_attempts = 40\nbackoff_base_ms = 1\n"
                                             "backoff_max_ms = 5\npoll_interval_ms = 5\n"));
    write_key(f, Sandbox::k_api_key);
    f.init();
    std::vector<std::string> erased;
    std::string csv = "request_id,identifier\n";
    for (int i = 0; i < 25; ++i) {
        erased.push_back("Leak.Person" + std::to_string(i) + "+tag@Example.org");
        csv += "LEAK-" + std::to_string(i) + "," + erased.back() + "\n";
    }
    csv += "LEAK-dead,keepme-7@example.org\n";
    REQUIRE(f.lethe({"import", f.csv("leak.csv", csv)}).exit_code == 0);
    std::filesystem::remove(f.dir / "leak.csv"); // the input file itself holds them, of course

    std::string everything;
    auto keep = [&everything](const ProcessResult& r) {
        everything += r.out;
        everything += r.err;
        return r;
    };
    for (int i = 0; i < 5; ++i) {
        auto r = keep(lethe_run(f, {"--log-level", "trace", "run", "--once"}));
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
    }
    keep(lethe_run(f, {"--log-level", "trace", "--log-format", "json", "status"}));
    keep(lethe_run(f, {"--log-level", "trace", "list", "--state", "done"}));
    keep(lethe_run(f, {"--log-level", "trace", "check"}));
    keep(lethe_run(f, {"--log-level", "trace", "config", "show"}));
    keep(lethe_run(
        f, {"--log-level", "trace", "audit", "export", "-o", (f.dir / "export.jsonl").string()}));
    keep(lethe_run(f, {"--log-level", "trace", "audit", "export", "--format", "csv", "-o",
                       (f.dir / "export.csv").string()}));
    keep(lethe_run(f, {"--log-level", "trace", "audit", "checkpoint"}));
    keep(lethe_run(f, {"--log-level", "trace", "report", "--format", "html"}));
    keep(lethe_run(f, {"--log-level", "trace", "report", "--format", "json"}));
    auto s = json::parse(f.lethe({"status", "--json"}).out);
    REQUIRE(s["counts"]["done"] == 25);
    REQUIRE(s["counts"]["dead"] == 1);

    // Every file lethe wrote, except the key files themselves (which must hold their secrets).
    for (const auto& entry : std::filesystem::recursive_directory_iterator(f.dir.path())) {
        const auto name = entry.path().filename().string();
        if (entry.is_regular_file() && name != "subject.key" && name != "checkpoint.key" &&
            name != "track.key") {
            everything += read_all(entry.path());
        }
    }
    // Positive control: the search sees real content. The dead request keeps its identifier for
    // a retry, but sealed (invariant 10): no file holds it in plain text, and only the key opens
    // it.
    REQUIRE(everything.find("LEAK-3") != std::string::npos);
    CHECK(count_in(everything, "keepme-7") == 0);
    auto shown = lethe_run(f, {"list", "--state", "dead", "--show-identifiers"});
    REQUIRE(shown.exit_code == 0);
    CHECK(shown.out.find("keepme-7@example.org") != std::string::npos);

    const std::string subject_key = read_all(f.dir / "state" / "subject.key");
    const std::string checkpoint_key = read_all(f.dir / "state" / "checkpoint.key");
    std::vector<std::string> secrets = {
        Sandbox::k_api_key,
        lethe::config::base64_encode(std::string(Sandbox::k_site_id) + ":" + Sandbox::k_api_key),
        subject_key.substr(0, 32),
    };
    // The PEM body lines of the private key.
    std::istringstream pem(checkpoint_key);
    for (std::string line; std::getline(pem, line);) {
        if (line.find("-----") == std::string::npos && line.size() > 16) {
            secrets.push_back(line);
        }
    }
    for (const auto& secret : secrets) {
        INFO("secret of " << secret.size() << " bytes");
        CHECK(count_in(everything, secret) == 0);
    }
    // The identifiers in any spelling: as given, lower-cased, percent-encoded for a URL.
    CHECK(count_in(everything, "Leak.Person") == 0);
    CHECK(count_in(everything, "leak.person") == 0);
    CHECK(count_in(everything, "tag%40Example.org") == 0);
    for (const auto& id : erased) {
        INFO(id);
        CHECK(count_in(everything, id) == 0);
    }
}

// Every byte of every file under `dir`, but the key files (which must hold their secrets).
std::string files_under(const std::filesystem::path& dir) {
    std::string all;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
        const auto name = entry.path().filename().string();
        if (entry.is_regular_file() && !name.ends_with(".key")) {
            all += read_all(entry.path());
        }
    }
    return all;
}

TEST_CASE("while the service runs, a done request's sealed identifier leaves the WAL within "
          "seconds",
          "[e2e][security][wal]") {
    Sandbox sandbox;
    CliFixture f(track_config(sandbox.url(), "[worker]\npacing_ms = 0\npoll_interval_ms = 20\n"));
    const auto toml = f.dir / "lethe.toml";
    std::string text = read_all(toml);
    const std::string path_line = "path = \"state/lethe.db\"\n";
    text.insert(text.find(path_line) + path_line.size(), "scrub_interval_s = 1\n");
    write_text(toml, text);
    write_key(f, Sandbox::k_api_key);
    f.init();
    std::string csv = "request_id,identifier\n";
    for (int i = 0; i < 40; ++i) {
        csv += "WAL-" + std::to_string(i) + ",wal.person" + std::to_string(i) + "@example.org\n";
    }
    REQUIRE(f.lethe({"import", f.csv("wal.csv", csv)}).exit_code == 0);
    std::filesystem::remove(f.dir / "wal.csv");
    // Pending, they are on disk only sealed; the ciphertext is what must go once they are done
    // (dropping it completes the erasure). Positive control: the search finds it now.
    std::vector<std::string> sealed;
    {
        SQLite::Database db(f.db_path().string(), SQLite::OPEN_READONLY);
        SQLite::Statement q(db, "SELECT identifier FROM requests");
        while (q.executeStep()) {
            const SQLite::Column c = q.getColumn(0);
            REQUIRE(c.isBlob());
            sealed.emplace_back(static_cast<const char*>(c.getBlob()), c.getBytes());
        }
    }
    REQUIRE(sealed.size() == 40);
    auto sealed_on_disk = [&sealed, &f] {
        const std::string all = files_under(f.dir / "state");
        int n = 0;
        for (const auto& s : sealed) {
            n += count_in(all, s.substr(1 + 4 + 12)); // ciphertext and tag, after the header
        }
        return n;
    };
    REQUIRE(sealed_on_disk() >= 40);
    CHECK(count_in(files_under(f.dir / "state"), "wal.person") == 0);
    // A second connection that stays open, as `lethe serve` beside a cron `run` would: the last
    // connection's close (which deletes the WAL) never comes.
    SQLite::Database reader(f.db_path().string(), SQLite::OPEN_READONLY);

    Process worker({lethe_bin(), "--config", toml.string(), "run"}, [] {
        ProcessOptions o;
        o.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM", "CREDENTIALS_DIRECTORY"};
        return o;
    }());
    auto done = [&reader] {
        return reader.execAndGet("SELECT count(*) FROM requests WHERE state = 'done'").getInt();
    };
    for (int i = 0; i < 500 && done() < 40; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(done() == 40);
    // Within a few scrub intervals no file holds any of them, while the worker runs on.
    const auto wal = f.dir / "state" / "lethe.db-wal";
    int left = -1;
    for (int i = 0; i < 100 && left != 0; ++i) {
        left = sealed_on_disk();
        if (left != 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    CHECK(left == 0);
    CHECK(std::filesystem::exists(wal)); // still open: the scrub cut it, nothing closed it
    REQUIRE(!worker.wait_for(std::chrono::milliseconds(0)));
    worker.signal(SIGTERM);
    CHECK(worker.wait(std::chrono::seconds(20)).exit_code == 0);
}

TEST_CASE("pending identifiers are sealed at rest: the database, its WAL and a backup reveal none",
          "[e2e][security][seal]") {
    Sandbox sandbox;
    CliFixture f(track_config(sandbox.url(), "[worker]\npacing_ms = 0\n"));
    write_key(f, Sandbox::k_api_key);
    auto init = f.lethe({"init"});
    REQUIRE(init.exit_code == 0);
    CHECK(init.out.find("created identifier key") != std::string::npos);
    const auto key = f.dir / "state" / "identifier.key";
    CHECK((std::filesystem::status(key).permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
    json people = json::array();
    for (int i = 0; i < 20; ++i) {
        people.push_back({{"id", "uid-sealed" + std::to_string(i)},
                          {"email", "sealed.person" + std::to_string(i) + "@example.org"}});
    }
    sandbox.seed(people);
    REQUIRE(sandbox.has_profile("email", "sealed.person7@example.org"));
    std::string csv = "request_id,identifier,id_type\n";
    for (int i = 0; i < 20; ++i) {
        csv += "SEAL-" + std::to_string(i) + ",sealed.person" + std::to_string(i) +
               "@example.org,email\n";
    }
    REQUIRE(f.lethe({"import", f.csv("s.csv", csv)}).exit_code == 0);
    std::filesystem::remove(f.dir / "s.csv");
    REQUIRE(f.lethe({"enqueue", "cli-person-555", "--id-type", "id", "--request-id", "SEAL-cli"})
                .exit_code == 0);
    {
        // A backup as docs/operations.md describes it, taken while a connection is open.
        SQLite::Database db(f.db_path().string(), SQLite::OPEN_READWRITE);
        db.exec("VACUUM INTO '" + (f.dir / "state" / "backup.db").string() + "'");
        const std::string all = files_under(f.dir / "state");
        REQUIRE(all.find("SEAL-3") != std::string::npos); // positive control: real content
        CHECK(count_in(all, "sealed.person") == 0);
        CHECK(count_in(all, "cli-person-555") == 0);
    }
    // The key opens them: --show-identifiers, and the worker erases them.
    auto shown = f.lethe({"list", "--show-identifiers"});
    REQUIRE(shown.exit_code == 0);
    CHECK(shown.out.find("sealed.person7@example.org") != std::string::npos);

    // Another key opens none: the worker stops loudly, nobody is marked done or charged.
    const std::string real_key = read_all(key);
    std::filesystem::remove(key);
    lethe::create_private_file(key, std::string(64, 'c') + "\n");
    auto wrong = lethe_run(f, {"run", "--once"});
    CHECK(wrong.exit_code != 0);
    CHECK(wrong.err.find("cannot be opened with the identifier key") != std::string::npos);
    CHECK(wrong.err.find("sealed.person") == std::string::npos);
    auto s = json::parse(f.lethe({"status", "--json"}).out);
    CHECK(s["counts"]["pending"] == 21);
    CHECK(s["counts"]["done"] == 0);
    // A missing key is never replaced by a new one while identifiers are sealed with it.
    std::filesystem::remove(key);
    auto again = f.lethe({"init"});
    CHECK(again.exit_code == 3);
    CHECK(again.err.find("holds identifiers sealed with it") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(key));

    lethe::create_private_file(key, real_key);
    auto run = lethe_run(f, {"run", "--once"});
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(json::parse(f.lethe({"status", "--json"}).out)["counts"]["done"] == 21);
    CHECK_FALSE(sandbox.has_profile("email", "sealed.person7@example.org"));
}
