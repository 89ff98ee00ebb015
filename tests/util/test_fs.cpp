#include "support/tempdir.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <functional>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace lethe;

TEST_CASE("temporary files beside a target are new, private and unguessable", "[util][fs]") {
    test::TempDir dir;
    std::filesystem::path a;
    std::filesystem::path b;
    int fd_a = create_temp_beside(dir / "out.jsonl", a);
    int fd_b = create_temp_beside(dir / "out.jsonl", b);
    ::close(fd_a);
    ::close(fd_b);
    CHECK(a != b);
    CHECK(a.string().rfind((dir / "out.jsonl.tmp.").string(), 0) == 0);
    struct stat st {};
    REQUIRE(::stat(a.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("an atomic write never follows a planted link", "[util][fs]") {
    test::TempDir dir;
    const auto victim = dir / "victim.db";
    test::write_text(victim, "precious");
    // The name the old code used: TARGET.tmp.PID, predictable by anyone who can list processes.
    auto planted = dir / "report.html";
    planted += ".tmp." + std::to_string(::getpid());
    std::filesystem::create_symlink(victim, planted);
    write_file_atomic(dir / "report.html", "new report");
    CHECK(test::read_text(victim) == "precious");
    CHECK(test::read_text(dir / "report.html") == "new report");
    struct stat st {};
    REQUIRE(::stat((dir / "report.html").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    // Nothing else was left behind but the planted link.
    int entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) {
        ++entries;
    }
    CHECK(entries == 3);
}

namespace {

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace

TEST_CASE("the bounded reader reads regular files only, within their kind's limit",
          "[util][fs][files]") {
    test::TempDir dir;
    const auto note = dir / "latest.note";
    test::write_text(note, "origin\n1\nhash\n");
    CHECK(read_file(note, FileKind::checkpoint_note) == "origin\n1\nhash\n");

    // Exactly the limit is read; one byte more is refused before reading, naming the file.
    const auto secret = dir / "secret";
    test::write_text(secret, std::string(max_file_bytes(FileKind::secret), 'k'));
    CHECK(read_file(secret, FileKind::secret).size() == 64 * 1024);
    test::write_text(secret, std::string(max_file_bytes(FileKind::secret) + 1, 'k'));
    CHECK_THROWS_AS(read_file(secret, FileKind::secret), ConfigError);
    CHECK(error_of([&] { read_file(secret, FileKind::secret); }) ==
          secret.string() + ": is larger than 64 KiB, the most a secret file may hold");

    // A directory, a device (also through a symlink) and a FIFO are refused by type, at once.
    CHECK(error_of([&] { read_file(dir.path(), FileKind::config); }) ==
          dir.path().string() + ": is a directory, not a regular file");
    CHECK_THROWS_AS(read_file(dir.path(), FileKind::config), ConfigError);
    std::filesystem::create_symlink("/dev/zero", dir / "zero.note");
    CHECK(error_of([&] { read_file(dir / "zero.note", FileKind::checkpoint_note); }) ==
          (dir / "zero.note").string() + ": is a character device, not a regular file");
    REQUIRE(::mkfifo((dir / "fifo.csv").c_str(), 0600) == 0);
    CHECK_THROWS_AS(InputFile(dir / "fifo.csv", FileKind::import_csv), InputError);
    CHECK(error_of([&] { InputFile(dir / "fifo.csv", FileKind::import_csv); }) ==
          (dir / "fifo.csv").string() + ": is a FIFO, not a regular file");
    CHECK(error_of([&] { read_file(dir / "absent", FileKind::audit_export); }) ==
          (dir / "absent").string() + ": cannot open: No such file or directory");
}

TEST_CASE("the bounded reader stops a file that grows past the limit while it is read",
          "[util][fs][files]") {
    test::TempDir dir;
    const auto file = dir / "grows";
    test::write_text(file, "small\n");
    InputFile in(file, FileKind::checkpoint_note);
    test::write_text(file, std::string(max_file_bytes(FileKind::checkpoint_note) + 10, 'x'));
    CHECK(error_of([&] { in.read_all(); }) ==
          file.string() + ": holds more than 64 KiB, the most a checkpoint note may hold");

    // Through the stream (the CSV reader's way) the same error is thrown, not flagged.
    test::write_text(file, "a\n");
    InputFile again(file, FileKind::checkpoint_note);
    test::write_text(file, std::string(max_file_bytes(FileKind::checkpoint_note) + 10, 'y'));
    std::string line;
    CHECK_THROWS_WITH(std::getline(again.stream(), line), Catch::Contains("holds more than"));
}

TEST_CASE("a failed atomic write or key creation leaves no file behind", "[util][fs][files]") {
    test::TempDir dir;
    // In a child with a file size limit of 10 bytes (SIGXFSZ ignored: writes fail with EFBIG),
    // the way a full disk fails them.
    auto in_child = [](const std::function<void()>& f) {
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::signal(SIGXFSZ, SIG_IGN);
            rlimit limit{10, 10};
            ::setrlimit(RLIMIT_FSIZE, &limit);
            try {
                f();
            } catch (const Error&) {
                ::_exit(3);
            }
            ::_exit(0);
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    };
    CHECK(in_child([&] { write_file_atomic(dir / "latest.note", std::string(4096, 'n')); }) == 3);
    CHECK(in_child([&] { create_private_file(dir / "subject.key", std::string(4096, 'k')); }) == 3);
    CHECK(std::filesystem::is_empty(dir.path()));
}
