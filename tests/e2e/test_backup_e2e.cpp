// lethe backup and lethe restore against the real binary and the sandbox (issue 19).
#include "cli_fixture.hpp"
#include "sandbox_fixture.hpp"

#include <SQLiteCpp/Database.h>
#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <thread>

using namespace lethe::test;
using nlohmann::json;

namespace {

std::string worker_config(const Sandbox& sandbox) {
    return "[customerio]\ntrack_url = \"" + sandbox.url() +
           "\"\nallow_insecure_loopback = true\nsite_id = \"" + Sandbox::k_site_id +
           "\"\napi_key_env = \"LETHE_TEST_TRACK_KEY\"\ntimeout_ms = 2000\n"
           "[worker]\npacing_ms = 0\nconcurrency = 4\nlease_seconds = 2\nmax_attempts = 50\n"
           "backoff_base_ms = 1\nbackoff_max_ms = 20\npoll_interval_ms = 10\n";
}

ProcessOptions worker_env() {
    ProcessOptions o;
    o.env["LETHE_TEST_TRACK_KEY"] = Sandbox::k_api_key;
    o.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM"};
    return o;
}

std::vector<std::string> lethe_argv(const CliFixture& f, std::vector<std::string> args) {
    std::vector<std::string> argv = {lethe_bin(), "--config", (f.dir / "lethe.toml").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

ProcessResult run_worker(const CliFixture& f, std::vector<std::string> args) {
    return run(lethe_argv(f, std::move(args)), worker_env(), std::chrono::seconds(120));
}

// Seeds `n` people into the sandbox and imports a request for each.
void import_people(const CliFixture& f, const Sandbox& sandbox, int n) {
    json people = json::array();
    std::string csv = "request_id,identifier\n";
    for (int i = 0; i < n; ++i) {
        const std::string local = "backup" + std::to_string(i);
        people.push_back({{"id", "uid-" + local}, {"email", local + "@example.com"}});
        csv += "REQ-" + local + "," + local + "@example.com\n";
    }
    sandbox.seed(people);
    auto r = f.lethe({"import", f.csv("people.csv", csv)});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
}

json status(const CliFixture& f) {
    return json::parse(f.lethe({"status", "--json"}).out);
}

std::string bytes_of(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A second installation with the same keys and configuration, as a standby host would have
// them (the keys are restored from their own backup; the database from `lethe backup`).
void copy_keys(const CliFixture& from, const CliFixture& to) {
    std::filesystem::create_directories(to.dir / "state");
    for (const char* key : {"subject.key", "checkpoint.key", "identifier.key"}) {
        std::filesystem::copy_file(from.dir / "state" / key, to.dir / "state" / key);
    }
}

ProcessResult backup(const CliFixture& f, const std::filesystem::path& out) {
    return f.lethe({"backup", "-o", out.string()});
}

} // namespace

TEST_CASE("a backup taken while lethe run erases restores, verifies and resumes", "[e2e][backup]") {
    Sandbox sandbox({"--latency-ms", "40"});
    const std::string config = worker_config(sandbox);
    CliFixture f(config);
    f.init();
    constexpr int k_people = 200;
    import_people(f, sandbox, k_people);

    Process worker(lethe_argv(f, {"run"}), worker_env());
    // Wait until the worker is well under way, then back up under its load.
    for (int i = 0; i < 200 && status(f)["counts"]["done"].get<int>() < 20; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const auto file = f.dir / "backups" / "lethe.db";
    std::filesystem::create_directories(file.parent_path());
    auto b = backup(f, file);
    INFO(b.err);
    REQUIRE(b.exit_code == 0);
    CHECK(b.out.find("verified") != std::string::npos);
    const int done_at_backup = status(f)["counts"]["done"];
    CHECK(done_at_backup < k_people); // the backup really ran during the erasures
    worker.signal(SIGTERM);
    auto w = worker.wait(std::chrono::seconds(30));
    INFO(w.err);
    CHECK(w.exit_code == 0);

    // Beside the copy: its latest checkpoint; no temporary file; no identifier in plain text.
    CHECK(std::filesystem::exists(file.string() + ".checkpoint.note"));
    for (const auto& e : std::filesystem::directory_iterator(file.parent_path())) {
        CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
    }
    const std::string bytes = bytes_of(file);
    CHECK(bytes.find("@example.com") == std::string::npos);
    CHECK(bytes.find("uid-backup") == std::string::npos);

    // A standby host: same keys, no database; the restore verifies and the worker resumes. The
    // people erased after the backup are erased again (suppress and destroy are idempotent).
    CliFixture standby(config);
    copy_keys(f, standby);
    auto r = standby.lethe({"restore", file.string()});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("restored") != std::string::npos);
    auto v = standby.lethe({"audit", "verify"});
    INFO(v.err);
    CHECK(v.exit_code == 0);
    auto again = run_worker(standby, {"run", "--once"});
    INFO(again.err);
    CHECK(again.exit_code == 0);
    const json s = status(standby);
    CHECK(s["counts"]["done"] == k_people);
    CHECK(s["counts"]["pending"] == 0);
    CHECK(standby.lethe({"audit", "verify"}).exit_code == 0);
    for (int i = 0; i < k_people; ++i) {
        CHECK_FALSE(sandbox.has_profile("email", "backup" + std::to_string(i) + "@example.com"));
    }
}

TEST_CASE("restore refuses a backup older than the latest checkpoint, and an open database",
          "[e2e][backup]") {
    Sandbox sandbox;
    CliFixture f(worker_config(sandbox));
    f.init();
    import_people(f, sandbox, 5);
    const auto old_backup = f.dir / "old.db";
    REQUIRE(backup(f, old_backup).exit_code == 0);

    // A backup that is still current restores over the live database, which is kept.
    auto same = f.lethe({"restore", old_backup.string()});
    INFO(same.out << same.err);
    REQUIRE(same.exit_code == 0);
    CHECK(std::filesystem::exists(f.db_path().string() + ".pre-restore"));

    // More evidence, and a checkpoint of it: the old backup would roll the log back.
    REQUIRE(run_worker(f, {"run", "--once"}).exit_code == 0);
    REQUIRE(f.lethe({"audit", "checkpoint"}).exit_code == 0);
    const auto before = bytes_of(f.db_path());
    auto refused = f.lethe({"restore", old_backup.string()});
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("refusing") != std::string::npos);
    CHECK(refused.err.find("in the database") != std::string::npos);
    CHECK(bytes_of(f.db_path()) == before);
    CHECK(status(f)["counts"]["done"] == 5);

    // The database lost, checkpoint_dir kept: still refused, from latest.note.
    std::filesystem::rename(f.db_path(), f.dir / "lost.db");
    auto lost = f.lethe({"restore", old_backup.string()});
    CHECK(lost.exit_code == 1);
    CHECK(lost.err.find("latest.note") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(f.db_path()));
    std::filesystem::rename(f.dir / "lost.db", f.db_path());

    // A current backup, but a worker has the database open: refused, and said why.
    const auto current = f.dir / "current.db";
    REQUIRE(backup(f, current).exit_code == 0);
    Process worker(lethe_argv(f, {"run"}), worker_env());
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    auto busy = f.lethe({"restore", current.string()});
    CHECK(busy.exit_code == 5);
    CHECK(busy.err.find("is open in process " + std::to_string(worker.pid())) != std::string::npos);
    worker.signal(SIGTERM);
    worker.wait(std::chrono::seconds(20));

    // No temporary file is left behind by the refusals.
    for (const auto& e : std::filesystem::directory_iterator(f.dir / "state")) {
        CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
    }
}

TEST_CASE("a backup to a directory that does not exist fails and leaves nothing; never over the "
          "database",
          "[e2e][backup]") {
    CliFixture f;
    f.init();
    auto r = f.lethe({"backup", "-o", (f.dir / "missing" / "x.db").string()});
    CHECK(r.exit_code == 1);
    CHECK_FALSE(std::filesystem::exists(f.dir / "missing"));
    // Never over the database itself, by any spelling.
    const auto itself = (f.dir / "state" / ".." / "state" / "lethe.db").string();
    auto over = f.lethe({"backup", "-o", itself});
    CHECK(over.exit_code == 4);
    CHECK(over.err.find("is the database itself") != std::string::npos);
    CHECK(f.lethe({"restore", itself}).exit_code == 4);
    CHECK(f.lethe({"audit", "verify"}).exit_code == 0);
}

TEST_CASE("bash completion lists every subcommand of --help, for lethe and lethe-sandbox",
          "[e2e][completion]") {
    auto help = run({lethe_bin(), "--help"});
    auto completion = run({lethe_bin(), "completion", "bash"});
    REQUIRE(completion.exit_code == 0);
    const auto at = help.out.find("Subcommands:");
    REQUIRE(at != std::string::npos);
    std::istringstream lines(help.out.substr(at));
    std::string line;
    std::getline(lines, line);
    int commands = 0;
    while (std::getline(lines, line) && line.rfind("  ", 0) == 0) {
        const std::string name = line.substr(2, line.find(' ', 2) - 2);
        INFO(name);
        CHECK(completion.out.find("\"lethe " + name + "\")") != std::string::npos);
        ++commands;
    }
    CHECK(commands >= 18);
    CHECK(help.out.find("\n  completion ") == std::string::npos); // hidden
    CHECK(completion.out.find("\"lethe audit verify\") echo \"") != std::string::npos);
    CHECK(completion.out.find("complete -F _lethe lethe\n") != std::string::npos);

    auto sandbox = run({sandbox_bin(), "--completion", "bash"});
    REQUIRE(sandbox.exit_code == 0);
    CHECK(sandbox.out.find("--rate-429") != std::string::npos);
    CHECK(sandbox.out.find("complete -F _lethe_sandbox lethe-sandbox\n") != std::string::npos);
    CHECK(sandbox.out.find("--completion") == std::string::npos);
}
