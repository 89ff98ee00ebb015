#include "cli_fixture.hpp"
#include "util/time.hpp"

#include <SQLiteCpp/Database.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

using namespace lethe::test;

void CliFixture::init() const {
    auto r = lethe({"init"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
}

namespace {

// Everything the database holds that an import could change.
std::string fingerprint(const std::filesystem::path& db) {
    SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
    std::string out;
    out += d.execAndGet("SELECT count(*) || ':' || coalesce(group_concat(request_id || state || "
                        "coalesce(identifier, '')), '') FROM requests")
               .getString();
    out += "|" + d.execAndGet("SELECT count(*) || ':' || coalesce(max(hash), '') FROM audit_log")
                     .getString();
    return out;
}

nlohmann::json status_json(const CliFixture& f) {
    auto r = f.lethe({"status", "--json"});
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
}

// `received_at` `days` before now, so that deadline figures do not depend on the day the tests
// run (fixed dates made `overdue` count requests once the calendar passed their deadline).
std::string received_days_ago(int days) {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return lethe::format_iso8601(now - std::int64_t{days} * 86'400'000);
}

// Two valid requests received in the last days: both pending, neither overdue.
const std::string k_good_csv = "request_id,identifier,id_type,received_at\n"
                               "T-1,alice@example.com,email," +
                               received_days_ago(2) + "\nT-2,cust_2,id," + received_days_ago(1) +
                               "\n";

} // namespace

TEST_CASE("init creates database and keys 0600 and is idempotent", "[e2e][cli]") {
    CliFixture f;
    auto first = f.lethe({"init"});
    INFO(first.err);
    REQUIRE(first.exit_code == 0);
    CHECK(first.out.find("created database") != std::string::npos);
    for (const char* name : {"lethe.db", "subject.key", "checkpoint.key"}) {
        struct stat st {};
        REQUIRE(::stat((f.dir / "state" / name).c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);
    }
    auto key_before = read_text(f.dir / "state" / "subject.key");
    auto second = f.lethe({"init"});
    CHECK(second.exit_code == 0);
    CHECK(second.out.find("kept    database") != std::string::npos);
    CHECK(read_text(f.dir / "state" / "subject.key") == key_before);
}

TEST_CASE("import, re-import, status and list", "[e2e][cli]") {
    CliFixture f;
    f.init();
    auto file = f.csv("in.csv", k_good_csv);
    auto r = f.lethe({"import", file});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("rows read:         2") != std::string::npos);
    CHECK(r.out.find("new requests:      2") != std::string::npos);
    auto again = f.lethe({"import", file});
    CHECK(again.exit_code == 0);
    CHECK(again.out.find("already known:     2") != std::string::npos);
    auto s = status_json(f);
    CHECK(s["counts"]["pending"] == 2);
    CHECK(s["counts"]["done"] == 0);
    CHECK_FALSE(s["counts"].contains("suppressed")); // an erasure state, not a request state
    CHECK(s["counts"]["dead"] == 0);
    CHECK(s["counts"]["cancelled"] == 0);
    CHECK(s["overdue"] == 0);
    // A request received more than a month ago and not erased is overdue.
    REQUIRE(f.lethe({"import", f.csv("old.csv", "request_id,identifier,received_at\nT-OLD,old_1," +
                                                    received_days_ago(40) + "\n")})
                .exit_code == 0);
    CHECK(status_json(f)["overdue"] == 1);
    auto list = f.lethe({"list"});
    CHECK(list.out.find("T-1") != std::string::npos);
    CHECK(list.out.find("alice@example.com") == std::string::npos); // digests only by default
    auto shown = f.lethe({"list", "--show-identifiers"});
    CHECK(shown.out.find("alice@example.com") != std::string::npos);
}

TEST_CASE("the sample file from the README imports", "[e2e][cli]") {
    CliFixture f;
    f.init();
    auto r = f.lethe({"import", (source_root() / "config" / "sample-requests.csv").string()});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("linked duplicates: 1") != std::string::npos);
    CHECK(r.err.find("ignoring column 'ticket_subject'") != std::string::npos);
}

TEST_CASE("import from stdin, CRLF, BOM, quoted fields and columns in any order", "[e2e][cli]") {
    CliFixture f;
    f.init();
    std::string csv = "\xEF\xBB\xBF"
                      "note,identifier,request_id\r\n"
                      "\"multi\r\nline, \"\"quoted\"\"\",\"x,y@example.com\",Q-1\r\n"
                      "plain,cio_abc123,Q-2\r\n";
    auto r = f.lethe({"import", "-"}, csv, true);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("new requests:      2") != std::string::npos);
    auto list = f.lethe({"list", "--json", "--show-identifiers"});
    CHECK(list.out.find("\"identifier\":\"x,y@example.com\"") != std::string::npos);
    CHECK(list.out.find("\"id_type\":\"cio_id\"") != std::string::npos);
    CHECK(list.out.find("\"source\":\"stdin:2\"") != std::string::npos);
}

TEST_CASE("a file without a header row is refused without echoing its first row", "[e2e][cli]") {
    CliFixture f;
    f.init();
    auto path = f.csv("no-header.csv", "Jane Doe,jane@example.com,DSR-9\n");
    auto r = f.lethe({"import", path});
    CHECK(r.exit_code == 4);
    CHECK(r.err.find(path + ":1: the header has no 'identifier' column") != std::string::npos);
    CHECK(r.err.find("Jane Doe") == std::string::npos);
    CHECK(r.err.find("jane@example.com") == std::string::npos);
    CHECK(r.err.find("ignoring column") == std::string::npos);
}

TEST_CASE("malformed CSVs are refused with FILE:LINE: reason and change nothing", "[e2e][cli]") {
    CliFixture f;
    f.init();
    REQUIRE(f.lethe({"import", f.csv("seed.csv", k_good_csv)}).exit_code == 0);
    const std::string before = fingerprint(f.db_path());

    struct Case {
        const char* name;
        std::string content;
        std::string expected; // a fragment of stderr, after "FILE:"
    };
    std::vector<Case> cases = {
        {"empty", "", "1: empty file"},
        {"no-identifier", "request_id,email\nX,a@b.co\n", "1: the header has no 'identifier'"},
        {"dup-column", "identifier,identifier\na,b\n", "1: column 'identifier' appears twice"},
        {"empty-identifier", "identifier,request_id\n,X-1\n", "2: "},
        {"too-long", "identifier\n" + std::string(151, 'a') + "\n", "2: "},
        {"bad-utf8", "identifier\nab\xff\xfe\n", "2: "},
        {"control-char", "identifier\n\"a\x01b\"\n", "2: "},
        {"bad-email", "identifier,id_type\nnot-an-email,email\n", "2: "},
        {"bad-cio", "identifier,id_type\ncio_!!,cio_id\n", "2: "},
        {"bad-type", "identifier,id_type\nx,phone\n", "2: "},
        {"bad-date", "identifier,received_at\nx,2026-02-30\n", "2: "},
        {"future-date", "identifier,received_at\nx,2999-01-01\n", "2: "},
        {"field-count", "identifier,request_id\nx\n", "2: expected 2 fields, found 1"},
        {"bare-quote", "identifier\nab\"c\n", "2: "},
        {"unterminated", "identifier\n\"abc\n", "2: "},
        {"conflict", "request_id,identifier\nT-1,someone-else\n",
         "2: request_id T-1 is already known"},
        {"late-bad-row", "identifier\nok1\nok2\nok3\n\n", "(none)"},
    };
    for (const auto& c : cases) {
        if (c.expected == "(none)") {
            continue;
        }
        INFO(c.name);
        auto path = f.csv(std::string(c.name) + ".csv", c.content);
        auto r = f.lethe({"import", path});
        CHECK(r.exit_code == 4);
        CHECK(r.err.find(path + ":" + c.expected) != std::string::npos);
        CHECK(r.err.find("nothing was imported") != std::string::npos);
        CHECK(fingerprint(f.db_path()) == before);
    }
}

TEST_CASE("an identifier with a no-break space is refused with FILE:LINE and the character",
          "[e2e][cli]") {
    CliFixture f;
    f.init();
    const std::string before = fingerprint(f.db_path());
    // Row 2 looks like nb@example.com but ends in U+00A0: "erasing" it would leave the real
    // profile in Customer.io. Row 3 is fine, and is not imported either.
    auto path = f.csv("file.csv", "identifier,request_id\n"
                                  "nb@example.com\xc2\xa0,T-1\n"
                                  "ok@example.com,T-2\n");
    auto r = f.lethe({"import", path});
    INFO(r.err);
    CHECK(r.exit_code == 4);
    CHECK(r.err.find(path + ":2: identifier: character U+00A0 (no-break space) at position 15 "
                            "is not allowed") != std::string::npos);
    CHECK(r.err.find(path + ":3") == std::string::npos);
    CHECK(r.err.find("nothing was imported") != std::string::npos);
    CHECK(r.err.find("nb@example.com") == std::string::npos);
    CHECK(fingerprint(f.db_path()) == before);
    CHECK(status_json(f)["counts"]["pending"] == 0);
}

TEST_CASE("one bad row among good ones: all rows listed, nothing imported", "[e2e][cli]") {
    CliFixture f;
    f.init();
    std::string csv = "identifier,request_id\n";
    for (int i = 0; i < 100; ++i) {
        csv += (i % 2 == 0 ? "good" + std::to_string(i) : std::string("")) + ",R" +
               std::to_string(i) + "\n";
    }
    auto path = f.csv("mixed.csv", csv);
    auto r = f.lethe({"import", path});
    CHECK(r.exit_code == 4);
    CHECK(r.err.find("... and 0 more") == std::string::npos);
    CHECK(r.err.find(path + ":3: ") != std::string::npos);
    CHECK(r.err.find("50 bad rows; nothing was imported") != std::string::npos);
    CHECK(status_json(f)["counts"]["pending"] == 0);

    // More than 50 bad rows: the first 50 are listed, then a count.
    std::string many = "identifier\n";
    for (int i = 0; i < 70; ++i) {
        many += "\n\"\"\n";
    }
    auto r2 = f.lethe({"import", f.csv("many.csv", many)});
    CHECK(r2.exit_code == 4);
    CHECK(r2.err.find("... and 20 more bad rows") != std::string::npos);
}

TEST_CASE("a bad row in the second file rolls back the first file too", "[e2e][cli]") {
    CliFixture f;
    f.init();
    auto good = f.csv("good.csv", k_good_csv);
    auto bad = f.csv("bad.csv", "identifier\n\n\"\"\n");
    auto r = f.lethe({"import", good, bad});
    CHECK(r.exit_code == 4);
    CHECK(status_json(f)["counts"]["pending"] == 0);
}

TEST_CASE("dry run validates and counts without writing", "[e2e][cli]") {
    CliFixture f;
    f.init();
    auto r = f.lethe({"import", "--dry-run", f.csv("in.csv", k_good_csv)});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("dry run") != std::string::npos);
    CHECK(r.out.find("new requests:      2") != std::string::npos);
    CHECK(status_json(f)["counts"]["pending"] == 0);
}

TEST_CASE("enqueue, cancel, extend and retry from the command line", "[e2e][cli]") {
    CliFixture f;
    f.init();
    auto r = f.lethe({"enqueue", "bob@example.com", "--request-id", "C-1"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "request C-1: queued\n");
    auto dup = f.lethe({"enqueue", "bob@example.com", "--request-id", "C-2"});
    CHECK(dup.out == "request C-2: queued, linked to active request C-1\n");
    auto bad = f.lethe({"enqueue", "bob@", "--id-type", "email"});
    CHECK(bad.exit_code == 4);
    CHECK(bad.err.rfind("lethe: error: enqueue: ", 0) == 0);
    CHECK(bad.err.find("bob@") == std::string::npos); // the identifier is not echoed

    auto ext = f.lethe({"extend", "C-1", "--reason", "complex"});
    CHECK(ext.exit_code == 0);
    CHECK(f.lethe({"extend", "C-1", "--reason", "again"}).exit_code == 1);
    auto cancel = f.lethe({"cancel", "C-1", "--reason", "withdrawn"});
    CHECK(cancel.exit_code == 0);
    auto s = status_json(f);
    CHECK(s["counts"]["cancelled"] == 1);
    CHECK(s["counts"]["pending"] == 1);
    auto retry = f.lethe({"retry", "C-2"});
    CHECK(retry.exit_code == 1);
    CHECK(retry.err.find("only dead requests can be retried") != std::string::npos);
    CHECK(f.lethe({"retry"}).exit_code == 2);
    CHECK(f.lethe({"cancel", "nope", "--reason", "x"}).exit_code == 1);
}

TEST_CASE("enqueue - reads the identifier from stdin", "[e2e][cli]") {
    CliFixture f;
    f.init();
    REQUIRE(f.lethe({"enqueue", "bob@example.com", "--request-id", "C-1"}).exit_code == 0);
    // The same person given on stdin (CRLF and all) is linked to the same request.
    auto piped = f.lethe({"enqueue", "-", "--request-id", "C-2"}, "bob@example.com\r\n", true);
    INFO(piped.err);
    CHECK(piped.out == "request C-2: queued, linked to active request C-1\n");
    auto empty = f.lethe({"enqueue", "-", "--request-id", "C-3"}, "", true);
    CHECK(empty.exit_code == 4);
}

TEST_CASE("bad configuration stops every command with file, line and key", "[e2e][cli]") {
    CliFixture f("[worker]\nconcurrency = 0\n");
    auto r = f.lethe({"status"});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("lethe.toml:8: worker.concurrency: must be between 1 and 64 (got 0)") !=
          std::string::npos);
    CHECK(f.lethe({"init"}).exit_code == 3);
    CHECK_FALSE(std::filesystem::exists(f.db_path()));
}

TEST_CASE("commands before init say what to do; usage errors exit 2", "[e2e][cli]") {
    CliFixture f;
    auto r = f.lethe({"status"});
    CHECK(r.exit_code == 5);
    CHECK(r.err.find("run `lethe init` first") != std::string::npos);
    CHECK(f.lethe({"no-such-command"}).exit_code == 2);
    auto help = f.lethe({"--help"});
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("import") != std::string::npos);
    auto sub = f.lethe({"import", "--help"});
    CHECK(sub.out.find("--dry-run") != std::string::npos);
}
