// Files lethe reads and writes (issue 16, "Files and inputs"): every file read is checked for its
// type and bounded in size; state files are refused rather than re-created or followed.
#include "cli_fixture.hpp"

#include <SQLiteCpp/Database.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <sys/stat.h>

using namespace lethe::test;

namespace {

using namespace std::chrono_literals;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// `lethe ARGS...` with f's config, killed after `limit` (a hang shows as exit_code -1).
ProcessResult lethe_within(const CliFixture& f, std::vector<std::string> args,
                           std::chrono::milliseconds limit = 30s,
                           std::optional<std::string> stdin_data = std::nullopt) {
    std::vector<std::string> argv = {lethe_bin(), "--config", (f.dir / "lethe.toml").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions opts;
    opts.stdin_data = std::move(stdin_data);
    opts.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM"};
    return run(argv, opts, limit);
}

} // namespace

TEST_CASE("latest.note as /dev/zero or a FIFO is refused by name, at once", "[e2e][files][audit]") {
    CliFixture f;
    f.init();
    REQUIRE(f.lethe({"audit", "checkpoint"}).exit_code == 0);
    const auto latest = f.dir / "state" / "checkpoints" / "latest.note";

    std::filesystem::remove(latest);
    std::filesystem::create_symlink("/dev/zero", latest);
    for (auto args : {std::vector<std::string>{"audit", "verify"},
                      std::vector<std::string>{"audit", "checkpoint"}}) {
        auto r = lethe_within(f, args);
        INFO(r.err);
        CHECK(r.exit_code == 1);
        CHECK(contains(r.err, latest.string() + ": is a character device, not a regular file"));
    }

    std::filesystem::remove(latest);
    REQUIRE(::mkfifo(latest.c_str(), 0600) == 0);
    for (auto args : {std::vector<std::string>{"audit", "verify"},
                      std::vector<std::string>{"audit", "checkpoint"}}) {
        auto r = lethe_within(f, args);
        INFO(r.err);
        CHECK(r.exit_code == 1);
        CHECK(contains(r.err, latest.string() + ": is a FIFO, not a regular file"));
    }
}

TEST_CASE("run --once with latest.note as a FIFO ends, naming the file", "[e2e][files][worker]") {
    // The Track API is never reachable here: the run ends as unreachable (exit 7), and the
    // checkpoint it writes at its end meets the FIFO.
    CliFixture f("[customerio]\ntrack_url = \"http://127.0.0.1:9\"\nallow_insecure_loopback = "
                 "true\nsite_id = \"site-1\"\napi_key_env = \"LETHE_TEST_TRACK_KEY\"\n");
    f.init();
    const auto latest = f.dir / "state" / "checkpoints" / "latest.note";
    std::filesystem::create_directories(latest.parent_path());
    REQUIRE(::mkfifo(latest.c_str(), 0600) == 0);
    ProcessOptions opts;
    opts.env["LETHE_TEST_TRACK_KEY"] = "track-key-files-e2e";
    opts.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM"};
    auto r =
        run({lethe_bin(), "--config", (f.dir / "lethe.toml").string(), "run", "--once"}, opts, 30s);
    INFO(r.err);
    CHECK(r.exit_code == 7);
    CHECK(contains(r.err, "checkpoint not written: " + latest.string() +
                              ": is a FIFO, not a regular file"));
}

TEST_CASE("inputs that are not regular files are refused by type, not read as empty",
          "[e2e][files][cli]") {
    CliFixture f;
    f.init();
    // The configuration as a directory: an error, not an empty configuration.
    std::filesystem::create_directories(f.dir / "conf.d");
    auto r = run({lethe_bin(), "--config", (f.dir / "conf.d").string(), "status"});
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, (f.dir / "conf.d").string() + ": is a directory, not a regular file"));

    // import DIR says it is a directory; import of a device or FIFO neither hangs nor grows.
    r = lethe_within(f, {"import", (f.dir / "conf.d").string()});
    CHECK(r.exit_code == 4);
    CHECK(contains(r.err, (f.dir / "conf.d").string() +
                              ": is a directory, not a regular file; nothing was imported"));
    CHECK_FALSE(contains(r.err, "empty file"));
    r = lethe_within(f, {"import", "/dev/zero"});
    CHECK(r.exit_code == 4);
    CHECK(contains(r.err, "/dev/zero: is a character device, not a regular file"));
    REQUIRE(::mkfifo((f.dir / "requests.csv").c_str(), 0600) == 0);
    r = lethe_within(f, {"import", (f.dir / "requests.csv").string()});
    CHECK(r.exit_code == 4);
    CHECK(contains(r.err, "requests.csv: is a FIFO, not a regular file"));

    // An audit export, a checkpoint and a verifier key given to `audit verify`.
    r = lethe_within(f, {"audit", "verify", "--file", "/dev/zero"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "/dev/zero: is a character device, not a regular file"));
    r = lethe_within(f, {"audit", "verify", "--file", (f.dir / "requests.csv").string()});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "requests.csv: is a FIFO, not a regular file"));

    // The body `lethe sign` signs, from a device or from standard input beyond 1 MiB.
    write_text(f.dir / "intake.secret", "intake-files-secret-0123456789abcdef\n");
    ::chmod((f.dir / "intake.secret").c_str(), 0600);
    r = lethe_within(f, {"sign", "--secret-file", (f.dir / "intake.secret").string(), "/dev/zero"});
    CHECK(r.exit_code == 4);
    CHECK(contains(r.err, "/dev/zero: is a character device, not a regular file"));
    r = lethe_within(f, {"sign", "--secret-file", (f.dir / "intake.secret").string()}, 30s,
                     std::string((1 << 20) + 1, '{'));
    CHECK(r.exit_code == 4);
    CHECK(contains(r.err, "stdin: holds more than 1 MiB, the most a request body may hold"));

    // An identifier read from standard input is one line, not everything stdin holds.
    r = lethe_within(f, {"enqueue", "-"}, 30s, std::string(100'000, 'a'));
    CHECK(r.exit_code == 4);
    CHECK(contains(r.err, "stdin: the first line is longer than 64 KiB"));
}

TEST_CASE("an empty database file is refused, by init too, and left as it is",
          "[e2e][files][cli]") {
    CliFixture f;
    std::filesystem::create_directories(f.db_path().parent_path());
    write_text(f.db_path(), "");
    for (auto args : {std::vector<std::string>{"status"}, std::vector<std::string>{"init"}}) {
        auto r = f.lethe(args);
        INFO(r.err);
        CHECK(r.exit_code == 5);
        CHECK(contains(r.err, f.db_path().string() + ": is empty (0 bytes), not a lethe database"));
        CHECK(std::filesystem::file_size(f.db_path()) == 0);
    }
    // Removed, init creates it as usual.
    std::filesystem::remove(f.db_path());
    f.init();
    CHECK(f.lethe({"status"}).exit_code == 0);
}

TEST_CASE("a foreign SQLite file is refused before anything is written to it",
          "[e2e][files][cli]") {
    CliFixture f;
    std::filesystem::create_directories(f.db_path().parent_path());
    for (const char* setup : {"CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('x');",
                              "PRAGMA user_version = 3; CREATE TABLE requests (id INTEGER);"}) {
        std::filesystem::remove(f.db_path());
        {
            SQLite::Database other(f.db_path().string(),
                                   SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
            other.exec(setup);
        }
        const std::string before = read_text(f.db_path());
        for (auto args : {std::vector<std::string>{"status"}, std::vector<std::string>{"init"}}) {
            auto r = f.lethe(args);
            INFO(setup << " " << args[0] << ": " << r.err);
            CHECK(r.exit_code == 5);
            CHECK(contains(r.err, f.db_path().string() + ": not a lethe database"));
            // Not switched to WAL (header bytes 18-19 stay 1), nothing else changed, no WAL.
            CHECK(read_text(f.db_path()) == before);
            CHECK_FALSE(std::filesystem::exists(f.db_path().string() + "-wal"));
        }
    }
}

TEST_CASE("database.path as a dangling symlink is refused and its target not created",
          "[e2e][files][cli]") {
    CliFixture f;
    std::filesystem::create_directories(f.db_path().parent_path());
    const auto target = f.dir / "elsewhere" / "lethe.db";
    std::filesystem::create_directories(target.parent_path());
    std::filesystem::create_symlink(target, f.db_path());
    for (auto args : {std::vector<std::string>{"init"}, std::vector<std::string>{"status"}}) {
        auto r = f.lethe(args);
        INFO(r.err);
        CHECK(r.exit_code == 5);
        CHECK(contains(r.err, f.db_path().string() + ": is a symbolic link to " + target.string() +
                                  ", which does not exist"));
        CHECK_FALSE(std::filesystem::exists(target));
    }
}

TEST_CASE("checkpoint_dir as a symlink is refused, not followed", "[e2e][files][audit]") {
    CliFixture f;
    f.init();
    const auto real = f.dir / "real-checkpoints";
    std::filesystem::create_directories(real);
    std::filesystem::create_symlink(real, f.dir / "state" / "checkpoints");
    for (auto args : {std::vector<std::string>{"audit", "checkpoint"},
                      std::vector<std::string>{"audit", "verify"}}) {
        auto r = f.lethe(args);
        INFO(r.err);
        // A config error; `audit verify` reports every problem as a failed verification (1).
        CHECK(r.exit_code == (args[1] == "verify" ? 1 : 3));
        CHECK(contains(r.err, "checkpoint_dir is a symbolic link, which lethe does not follow"));
    }
    CHECK(std::filesystem::is_empty(real));
}

TEST_CASE("a key file reached through a symlink gets no chmod advice that would change the "
          "link's target",
          "[e2e][files][secrets]") {
    CliFixture f;
    f.init();
    const auto key = f.dir / "state" / "subject.key";
    const auto shared = f.dir / "shared.key";
    std::filesystem::rename(key, shared);
    ::chmod(shared.c_str(), 0644);
    std::filesystem::create_symlink(shared, key);
    auto r = f.lethe({"enqueue", "cust_1", "--id-type", "id"});
    INFO(r.err);
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, key.string() + ": is a symbolic link to " + shared.string() +
                              ", which has permissions 0644, too open"));
    CHECK(contains(r.err, "point the configuration at the real file"));
    CHECK_FALSE(contains(r.err, "chmod"));
}

TEST_CASE("an error about a rejected secret does not mark the secret's characters",
          "[e2e][files][secrets]") {
    // Three one-letter lines: refused (one secret, or two during a rotation). Were they
    // registered for redaction, every 'e', 's' and 't' of the error would read "[redacted]".
    CliFixture f("[intake]\nsecret_file = \"intake.secret\"\n");
    write_text(f.dir / "intake.secret", "e\ns\nt\n");
    ::chmod((f.dir / "intake.secret").c_str(), 0600);
    auto r = f.lethe({"config", "show"});
    INFO(r.err);
    CHECK(r.exit_code == 3);
    CHECK(contains(r.out, "holds 3 lines; expected one secret"));
    CHECK(contains(r.err, "1 secret could not be resolved (see the <error: ...> lines above)"));
    CHECK_FALSE(contains(r.err, "[redacted]"));
}

TEST_CASE("disk full during run: the halt reason is printed and no temporary file is left",
          "[e2e][files][worker]") {
    // The Track API is never reached: the worker's first write to the database fails.
    CliFixture f("[customerio]\ntrack_url = \"http://127.0.0.1:9\"\nallow_insecure_loopback = "
                 "true\nsite_id = \"site-1\"\napi_key_env = \"LETHE_TEST_TRACK_KEY\"\n"
                 "timeout_ms = 2000\n");
    f.init();
    REQUIRE(f.lethe({"enqueue", "cust_1", "--id-type", "id"}).exit_code == 0);
    REQUIRE(f.lethe({"audit", "checkpoint"}).exit_code == 0);
    const auto dir = f.dir / "state" / "checkpoints";
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        std::filesystem::remove(e.path()); // so the run writes the (unchanged) checkpoint again
    }
    // A connection held open keeps the WAL index at its size, so only new data meets the limit.
    SQLite::Database held(f.db_path().string(), SQLite::OPEN_READWRITE);
    held.execAndGet("SELECT count(*) FROM requests");

    // A full disk, made with a file size limit of 100 bytes (writes beyond it fail with EFBIG;
    // SIGXFSZ is ignored, as the shell's trap passes it on through exec). The output goes
    // through a pipe, which the limit does not cut short as it would a capture file.
    ProcessOptions opts;
    opts.env["LETHE_TEST_TRACK_KEY"] = "track-key-files-e2e";
    opts.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM"};
    const std::string command = "trap '' XFSZ; (prlimit --fsize=100 '" + lethe_bin() +
                                "' --config '" + (f.dir / "lethe.toml").string() +
                                "' run --once; echo \"exit status $?\") 2>&1 | cat";
    auto r = run({"/bin/sh", "-c", command}, opts, 60s);
    INFO(r.out);
    CHECK(contains(r.out, "exit status 1\n"));
    CHECK(contains(r.out, "lethe: error: worker halted: database: "));
    CHECK(contains(r.out, "checkpoint not written: " + dir.string()));
    CHECK(contains(r.out, "(halt)"));
    std::vector<std::string> left;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        left.push_back(e.path().filename().string());
    }
    CHECK(left.empty());
}

TEST_CASE("received_at takes a leap second and an offset of hours; second 60 elsewhere is "
          "refused clearly",
          "[e2e][files][cli]") {
    CliFixture f;
    f.init();
    auto r = f.lethe({"import", f.csv("a.csv", "request_id,identifier,id_type,received_at\n"
                                               "T-1,cust_1,id,2016-12-31T23:59:60Z\n"
                                               "T-2,cust_2,id,2024-05-01T09:30:00+05\n")});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    r = f.lethe({"list", "--json"});
    CHECK(contains(r.out, R"("received_at":"2016-12-31T23:59:59Z","request_id":"T-1")"));
    CHECK(contains(r.out, R"("received_at":"2024-05-01T04:30:00Z","request_id":"T-2")"));

    r = f.lethe({"import", f.csv("b.csv", "request_id,identifier,id_type,received_at\n"
                                          "T-3,cust_3,id,2016-12-31T12:00:60Z\n")});
    CHECK(r.exit_code == 4);
    CHECK(contains(r.err, "b.csv:2: received_at has second 60, which is a leap second only at "
                          "23:59:60 UTC"));
}

TEST_CASE("numeric options beyond their range are refused, never clamped", "[e2e][files][cli]") {
    CliFixture f;
    f.init();
    const std::string int64_max = "9223372036854775807";
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"run", "--max", "99999999999999999999"},
         "--max: 99999999999999999999 is out of range: expected a whole number from 1 to " +
             int64_max},
        {{"run", "--max", "0"}, "--max: 0 is out of range"},
        {{"list", "--limit", "99999999999999999999"},
         "--limit: 99999999999999999999 is out of range: expected a whole number from 0 to " +
             int64_max},
        {{"list", "--limit", "1e3"}, "--limit: '1e3' is not a whole number"},
        {{"report", "--at-risk-days", "4294967297"},
         "--at-risk-days: 4294967297 is out of range: expected a whole number from 1 to 365"},
        {{"sign", "--secret-file", "x", "--timestamp", "99999999999999999999"},
         "--timestamp: 99999999999999999999 is out of range: expected a whole number from 0 to "
         "999999999999"},
    };
    for (const auto& c : cases) {
        auto r = f.lethe(c.args);
        INFO(c.args[0] << ": " << r.err);
        CHECK(r.exit_code == 2);
        CHECK(contains(r.err, c.message));
    }
    // Leading zeros are decimal, not octal: 0100 is 100 (CLI11 alone reads 64).
    write_text(f.dir / "intake.secret", "intake-files-secret-0123456789abcdef\n");
    ::chmod((f.dir / "intake.secret").c_str(), 0600);
    write_text(f.dir / "body.json", "{}");
    auto r = f.lethe({"sign", "--secret-file", (f.dir / "intake.secret").string(),
                      (f.dir / "body.json").string(), "--timestamp", "0100"});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "X-Lethe-Timestamp: 100\n"));
}
