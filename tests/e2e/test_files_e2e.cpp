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
