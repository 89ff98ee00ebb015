#include "support/tempdir.hpp"
#include "util/fs.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>
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
