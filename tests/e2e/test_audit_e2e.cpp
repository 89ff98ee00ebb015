// End-to-end tests of the audit evidence: the real lethe binary on a real SQLite file, the
// sandbox for real erasures, and the independent Python verifier of docs/audit-format.md.
#include "cli_fixture.hpp"
#include "sandbox_fixture.hpp"
#include "store/audit_log.hpp"
#include "util/time.hpp"

#include <SQLiteCpp/Database.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <unistd.h>

using namespace lethe::test;
using nlohmann::json;

namespace {

constexpr std::int64_t k_day_ms = 86'400'000;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string days_ago(double days) {
    return lethe::format_iso8601_ms(now_ms() - static_cast<std::int64_t>(days * k_day_ms));
}

// An installation with `n` requests queued (alice0@example.com, ...), a checkpoint signed.
struct AuditInstall {
    CliFixture f;

    explicit AuditInstall(int n = 6) {
        f.init();
        for (int i = 0; i < n; ++i) {
            ok({"enqueue", "alice" + std::to_string(i) + "@example.com", "--request-id",
                "REQ-" + std::to_string(i)});
        }
    }

    ProcessResult ok(std::vector<std::string> args) const {
        auto r = f.lethe(std::move(args));
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        return r;
    }

    std::string key() const { return trim_nl(ok({"audit", "public-key"}).out); }

    static std::string trim_nl(std::string s) {
        while (!s.empty() && s.back() == '\n') {
            s.pop_back();
        }
        return s;
    }

    std::string path(const std::string& name) const { return (f.dir / name).string(); }

    // Runs SQL on the database file directly, as someone with access to the file could.
    void sql(const std::string& statements) const {
        SQLite::Database db(f.db_path().string(), SQLite::OPEN_READWRITE);
        db.exec(statements);
    }
};

// The seq a verifier names in its message ("seq N:"), if any.
std::optional<long> named_seq(const std::string& text) {
    std::smatch m;
    if (std::regex_search(text, m, std::regex(R"(\bseq (\d+):)"))) {
        return std::stol(m[1]);
    }
    return std::nullopt;
}

// python3 as the shell would find it (the test harness execs without a PATH search).
std::string python3() {
    const char* path = std::getenv("PATH");
    std::string dirs = path != nullptr ? path : "/usr/bin";
    for (std::size_t start = 0; start <= dirs.size();) {
        auto end = dirs.find(':', start);
        end = end == std::string::npos ? dirs.size() : end;
        const auto candidate = std::filesystem::path(dirs.substr(start, end - start)) / "python3";
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate.string();
        }
        start = end + 1;
    }
    return "/usr/bin/python3";
}

ProcessResult python_verify(const std::string& file, const std::string& key) {
    return run({python3(), (source_root() / "tests" / "audit" / "verify_export.py").string(), file,
                "--key", key});
}

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
    const auto pos = text.find(from);
    REQUIRE(pos != std::string::npos);
    return text.replace(pos, from.size(), to);
}

// Both verifiers on one file: they must agree on the outcome and on the seq they name.
void check_agreement(const AuditInstall& a, const std::string& file, bool expect_ok,
                     std::optional<long> expect_seq = std::nullopt) {
    const std::string key = a.key();
    auto lethe = a.f.lethe({"audit", "verify", "--file", file, "--key", key});
    auto py = python_verify(file, key);
    INFO("lethe: " << lethe.out << lethe.err << "\npython: " << py.out << py.err);
    CHECK(lethe.exit_code == (expect_ok ? 0 : 1));
    CHECK(py.exit_code == (expect_ok ? 0 : 1));
    CHECK(named_seq(lethe.err) == named_seq(py.out));
    if (expect_seq) {
        CHECK(named_seq(lethe.err) == expect_seq);
    }
}

} // namespace

TEST_CASE("UPDATE and DELETE on audit_log fail on the real file", "[e2e][audit]") {
    AuditInstall a(2);
    CHECK_THROWS_WITH(a.sql("UPDATE audit_log SET event = 'x' WHERE seq = 1"),
                      Catch::Contains("append-only"));
    CHECK_THROWS_WITH(a.sql("DELETE FROM audit_log WHERE seq = 2"), Catch::Contains("append-only"));
    a.ok({"audit", "verify"});
}

TEST_CASE("a copy with the triggers dropped and one entry changed fails at that seq",
          "[e2e][audit]") {
    AuditInstall a(6);
    a.sql("VACUUM INTO '" + a.path("copy.db") + "'");
    write_text(a.f.dir / "copy.toml",
               replace_once(read_text(a.f.dir / "lethe.toml"), "state/lethe.db", "copy.db"));
    {
        SQLite::Database db(a.path("copy.db"), SQLite::OPEN_READWRITE);
        db.exec("DROP TRIGGER audit_log_no_update");
        db.exec("UPDATE audit_log SET request_ref = 'REQ-X' WHERE seq = 4");
    }
    auto r = run({lethe_bin(), "--config", a.path("copy.toml"), "audit", "verify"});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(named_seq(r.err) == 4);
    CHECK(r.err.find("changed") != std::string::npos);
    a.ok({"audit", "verify"}); // the original is untouched
}

TEST_CASE("removing the last entries is caught with a checkpoint", "[e2e][audit]") {
    AuditInstall a(6);
    a.ok({"audit", "checkpoint"});
    // The copy shipped off the machine.
    write_text(a.f.dir / "offsite.note",
               read_text(a.f.dir / "state" / "checkpoints" / "latest.note"));
    // Whoever truncates the log also removes every trace on the machine.
    a.sql("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq > 4; "
          "DELETE FROM checkpoints");
    std::filesystem::remove_all(a.f.dir / "state" / "checkpoints");
    auto alone = a.f.lethe({"audit", "verify"});
    CHECK(alone.exit_code == 0);
    CHECK(alone.out.find("cannot be detected") != std::string::npos);

    auto r = a.f.lethe({"audit", "verify", "--checkpoint", a.path("offsite.note")});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(named_seq(r.err) == 5);
    CHECK(r.err.find("removed") != std::string::npos);
}

TEST_CASE("a forged entry appended to the database is caught", "[e2e][audit]") {
    AuditInstall a(3);
    // The triggers let it in (it extends the head) but its hash is not the entry hash.
    SQLite::Database db(a.f.db_path().string(), SQLite::OPEN_READWRITE);
    const std::string head = db.execAndGet("SELECT hash FROM audit_log WHERE seq = 3").getString();
    db.exec("INSERT INTO audit_log (seq, at, event, request_ref, prev_hash, hash) VALUES (4, "
            "'2026-11-22T12:00:00.000Z', 'request.done', 'REQ-0', '" +
            head + "', '" + std::string(64, 'f') + "')");
    auto r = a.f.lethe({"audit", "verify"});
    CHECK(r.exit_code == 1);
    CHECK(named_seq(r.err) == 4);
}

TEST_CASE("a checkpoint with a bad signature is caught", "[e2e][audit]") {
    AuditInstall a(2);
    a.ok({"audit", "checkpoint"});
    std::string note = read_text(a.f.dir / "state" / "checkpoints" / "latest.note");
    const auto pos = note.rfind(' ') + 12;
    note[pos] = note[pos] == 'A' ? 'B' : 'A';
    write_text(a.f.dir / "bad.note", note);
    auto r = a.f.lethe({"audit", "verify", "--checkpoint", a.path("bad.note")});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("signature does not verify") != std::string::npos);
    // The same note in checkpoint_dir is refused too, and nothing is signed over it.
    write_text(a.f.dir / "state" / "checkpoints" / "latest.note", note);
    CHECK(a.f.lethe({"audit", "verify"}).exit_code == 1);
    CHECK(a.f.lethe({"audit", "checkpoint"}).exit_code == 1);
}

TEST_CASE("the Python verifier agrees with lethe audit verify", "[e2e][audit]") {
    AuditInstall a(8);
    a.ok({"audit", "checkpoint"});
    const std::string before_cancel = lethe::format_iso8601_ms(now_ms());
    a.ok({"cancel", "REQ-2", "--reason", "withdrawn by the ticket"});
    a.ok({"audit", "export", "-o", a.path("full.jsonl")});
    a.ok({"audit", "export", "--format", "csv", "-o", a.path("full.csv")});
    const std::string full = read_text(a.f.dir / "full.jsonl");
    const auto write = [&](const std::string& name, const std::string& text) {
        write_text(a.f.dir / name, text);
        return a.path(name);
    };
    const auto without_line = [&](const std::string& text, const std::string& start) {
        const auto from = text.find(start);
        REQUIRE(from != std::string::npos);
        return std::string(text).erase(from, text.find('\n', from) + 1 - from);
    };

    SECTION("good exports") {
        check_agreement(a, a.path("full.jsonl"), true);
        check_agreement(a, a.path("full.csv"), true);
        // A range: only the cancellation (seq 9), verifiable on its own.
        a.ok({"audit", "export", "--since", before_cancel, "-o", a.path("range.jsonl")});
        check_agreement(a, a.path("range.jsonl"), true);
        auto r = a.ok({"audit", "verify", "--file", a.path("range.jsonl"), "--key", a.key()});
        CHECK(r.out.find("ok, 1 entries (seq 9 to 9)") != std::string::npos);
    }
    SECTION("a tampered line") {
        check_agreement(a, write("t.jsonl", replace_once(full, "\"REQ-5\"", "\"REQ-6\"")), false,
                        6);
    }
    SECTION("a removed line") {
        check_agreement(a, write("t.jsonl", without_line(full, "{\"seq\":3,")), false, 3);
    }
    SECTION("the last entry removed") {
        check_agreement(a, write("t.jsonl", without_line(full, "{\"seq\":9,")), false, 9);
    }
    SECTION("an appended forged entry, chained and hashed correctly") {
        // The forger knows the format (it is public): only the signed end gives it away.
        const auto trailer = full.find("{\"type\":\"checkpoint\"");
        const auto last_start = full.rfind("{\"seq\":9,", trailer);
        const auto last = json::parse(full.substr(last_start, trailer - last_start));
        lethe::store::AuditEntry e{10,
                                   "2026-11-22T12:00:00.000Z",
                                   "request.done",
                                   "REQ-2",
                                   "",
                                   "{}",
                                   last["hash"].get<std::string>(),
                                   ""};
        e.hash = lethe::store::audit_entry_hash(e);
        const json forged = {{"seq", e.seq},
                             {"at", e.at},
                             {"event", e.event},
                             {"request_ref", e.request_ref},
                             {"subject_digest", ""},
                             {"detail", e.detail},
                             {"prev_hash", e.prev_hash},
                             {"hash", e.hash}};
        check_agreement(a,
                        write("t.jsonl", std::string(full).insert(trailer, forged.dump() + "\n")),
                        false, 10);
    }
    SECTION("a line after the trailer") {
        check_agreement(a, write("t.jsonl", full + full.substr(0, full.find('\n') + 1)), false);
    }
    SECTION("a bad signature in the trailer") {
        const std::string origin = a.key().substr(0, a.key().find('+'));
        const auto at = full.find("\xE2\x80\x94 " + origin + " ");
        REQUIRE(at != std::string::npos);
        std::string bad = full;
        const auto pos = bad.find(' ', at + 5) + 15;
        bad[pos] = bad[pos] == 'A' ? 'B' : 'A';
        check_agreement(a, write("t.jsonl", bad), false);
    }
    SECTION("a range export whose start_tree or head_proof was changed") {
        // seq 9 alone (start_tree: the 8 entries before it) and seq 1 to 8 (head_proof: to 9).
        a.ok({"audit", "export", "--since", before_cancel, "-o", a.path("tail.jsonl")});
        a.ok({"audit", "export", "--until", before_cancel, "-o", a.path("head.jsonl")});
        const std::pair<const char*, const char*> cases[] = {{"tail.jsonl", "\"start_tree\":\""},
                                                             {"head.jsonl", "\"head_proof\":\""}};
        for (const auto& [file, member] : cases) {
            INFO(file << " " << member);
            const std::string text = read_text(a.f.dir / file);
            check_agreement(a, a.path(file), true);
            const auto pos = text.find(member) + std::string(member).size();
            REQUIRE(pos > std::string(member).size());
            REQUIRE(text[pos] != '"'); // not empty
            std::string bad = text;
            bad[pos] = bad[pos] == 'a' ? 'b' : 'a';
            check_agreement(a, write("t.jsonl", bad), false,
                            std::string(file) == "tail.jsonl" ? 9 : 8);
        }
    }
    SECTION("a tampered CSV row") {
        const std::string csv = read_text(a.f.dir / "full.csv");
        write_text(a.f.dir / "t.csv", replace_once(csv, ",REQ-4,", ",REQ-7,"));
        write_text(a.f.dir / "t.csv.checkpoint.json",
                   read_text(a.f.dir / "full.csv.checkpoint.json"));
        check_agreement(a, a.path("t.csv"), false, 5);
    }
}

TEST_CASE("worker run, subject look-up, report figures and no raw identifier anywhere",
          "[e2e][audit]") {
    Sandbox sandbox;
    CliFixture f("[customerio]\ntrack_url = \"" + sandbox.url() +
                 "\"\nallow_insecure_loopback = true\nsite_id = \"" + Sandbox::k_site_id +
                 "\"\napi_key_env = \"LETHE_TEST_TRACK_KEY\"\ntimeout_ms = 2000\n"
                 "[worker]\npacing_ms = 0\nconcurrency = 2\nbackoff_base_ms = 1\n"
                 "poll_interval_ms = 10\n");
    f.init();
    const auto enqueue = [&](const std::string& who, const std::string& id, double ago) {
        auto r = f.lethe({"enqueue", who, "--request-id", id, "--received-at", days_ago(ago)});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
    };
    // Erased by the run below: 2, 5, 10 and 40 days after receipt (the last one late).
    enqueue("ann@example.com", "T-2D", 2);
    enqueue("ben@example.com", "T-5D", 5);
    enqueue("cid-4711", "T-10D", 10);
    enqueue("dora@example.com", "T-40D", 40);
    ProcessOptions env;
    env.env["LETHE_TEST_TRACK_KEY"] = Sandbox::k_api_key;
    env.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM"};
    auto run_r =
        run({lethe_bin(), "--config", (f.dir / "lethe.toml").string(), "run", "--once"}, env);
    INFO(run_r.err);
    REQUIRE(run_r.exit_code == 0);
    const std::int64_t erased_at = now_ms();
    // Still open afterwards: one past its deadline, one due within days.
    enqueue("eve@example.com", "T-OVERDUE", 35);
    enqueue("finn@example.com", "T-AT-RISK", 25);

    // The run signed a checkpoint of the head it left, and it verifies.
    CHECK(std::filesystem::exists(f.dir / "state" / "checkpoints" / "latest.note"));
    auto v = f.lethe({"audit", "verify"});
    INFO(v.err);
    CHECK(v.exit_code == 0);

    SECTION("subject look-up shows that subject only") {
        auto r = f.lethe({"audit", "subject", "--json", "ben@example.com"});
        REQUIRE(r.exit_code == 0);
        auto j = json::parse(r.out);
        CHECK(j["erased"] == true);
        CHECK(j["erased_by_request"] == "T-5D");
        REQUIRE(j["requests"].size() == 1);
        std::set<std::string> events;
        for (const auto& e : j["entries"]) {
            CHECK(e["request_ref"] == "T-5D");
            events.insert(e["event"].get<std::string>());
        }
        for (const char* e : {"request.received", "call.suppress", "erasure.suppressed",
                              "call.destroy", "erasure.done", "request.done"}) {
            CHECK(events.count(e) == 1);
        }
        CHECK(r.out.find("ben@example.com") == std::string::npos);
        auto text = f.lethe({"audit", "subject", "-"}, "  ben@example.com \n", true);
        CHECK(text.out.find("erased: yes") != std::string::npos);
        CHECK(text.out.find("T-2D") == std::string::npos);
        auto nobody = f.lethe({"audit", "subject", "zed@example.com"});
        CHECK(nobody.out.find("no requests") != std::string::npos);
    }
    SECTION("report figures") {
        auto r = f.lethe({"report", "--format", "json"});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        auto j = json::parse(r.out);
        CHECK(j["counts"]["received"] == 6);
        CHECK(j["counts"]["erased"] == 4);
        CHECK(j["counts"]["in_progress"] == 2);
        // Nearest rank over 2, 5, 10 and 40 days: the median is the 2nd, p95 the 4th.
        const auto near = [&](const json& got, double days) {
            const std::int64_t expected = static_cast<std::int64_t>(days * k_day_ms);
            const std::int64_t slack = 120'000 + (now_ms() - erased_at);
            return got.is_number() && std::llabs(got.get<std::int64_t>() - expected) < slack;
        };
        CHECK(near(j["time_to_erasure_ms"]["median"], 5));
        CHECK(near(j["time_to_erasure_ms"]["p95"], 40));
        CHECK(j["deadline"]["erased_on_time"] == 3);
        CHECK(j["deadline"]["erased_late"] == 1);
        CHECK(j["deadline"]["within_deadline_share"].get<double>() == Approx(0.6)); // 3 of 4 + 1
        REQUIRE(j["overdue"].size() == 1);
        CHECK(j["overdue"][0]["request_id"] == "T-OVERDUE");
        REQUIRE(j["at_risk"].size() == 1);
        CHECK(j["at_risk"][0]["request_id"] == "T-AT-RISK");

        auto since = f.lethe({"report", "--format", "json", "--since", days_ago(7)});
        auto js = json::parse(since.out);
        CHECK(js["counts"]["received"] == 2); // T-2D and T-5D
    }
    SECTION("no raw identifier in any export or report") {
        REQUIRE(f.lethe({"audit", "export", "-o", (f.dir / "e.jsonl").string()}).exit_code == 0);
        REQUIRE(f.lethe({"audit", "export", "--format", "csv", "-o", (f.dir / "e.csv").string()})
                    .exit_code == 0);
        REQUIRE(
            f.lethe({"report", "--format", "html", "-o", (f.dir / "r.html").string()}).exit_code ==
            0);
        std::string all = read_text(f.dir / "e.jsonl") + read_text(f.dir / "e.csv") +
                          read_text(f.dir / "e.csv.checkpoint.json") + read_text(f.dir / "r.html") +
                          f.lethe({"report"}).out + f.lethe({"report", "--format", "json"}).out;
        CHECK(all.find("T-40D") != std::string::npos); // the outputs are really there
        for (const char* id :
             {"ann@example.com", "ben@example.com", "cid-4711", "dora@example.com",
              "eve@example.com", "finn@example.com", "example.com", Sandbox::k_api_key}) {
            INFO(id);
            CHECK(all.find(id) == std::string::npos);
        }
        // Nor the subject key.
        std::string subject_key = read_text(f.dir / "state" / "subject.key");
        subject_key.pop_back();
        CHECK(all.find(subject_key) == std::string::npos);
        const std::string html = read_text(f.dir / "r.html");
        CHECK(html.find("<svg") != std::string::npos);
        CHECK(html.find("<script") == std::string::npos);
    }
}

TEST_CASE("range and empty exports verify with checkpoints of other sizes", "[e2e][audit]") {
    AuditInstall a(3);
    a.ok({"audit", "checkpoint"});
    const auto dir = a.f.dir / "state" / "checkpoints";
    write_text(a.f.dir / "older.note", read_text(dir / "latest.note"));
    a.ok({"enqueue", "dave@example.com", "--request-id", "REQ-D"});
    a.ok({"enqueue", "erin@example.com", "--request-id", "REQ-E"});
    const std::string since = lethe::format_iso8601_ms(now_ms() + 50);
    ::usleep(100'000);
    a.ok({"enqueue", "bob@example.com", "--request-id", "REQ-B"});
    a.ok({"audit", "checkpoint"});
    a.ok({"audit", "export", "--since", since, "-o", a.path("range.jsonl")});
    a.ok({"audit", "export", "--since", days_ago(-30), "-o", a.path("empty.jsonl")});
    for (const char* file : {"range.jsonl", "empty.jsonl"}) {
        INFO(file);
        auto r = a.f.lethe({"audit", "verify", "--file", a.path(file), "--checkpoint",
                            (dir / "latest.note").string(), "--checkpoint", a.path("older.note")});
        INFO(r.out << r.err);
        CHECK(r.exit_code == 0);
        // The empty export has neither note in range; the range export has the latest.
        CHECK((r.out.find("matches head_note") != std::string::npos) ==
              (std::string(file) == "empty.jsonl"));
        CHECK(r.out.find("older.note: size 3 is outside this export") != std::string::npos);
        check_agreement(a, a.path(file), true);
    }
    // A note of the log's size that is not its head is a fork, not something outside the range.
    a.sql("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET event = 'x' WHERE seq = 1");
    auto fork = a.f.lethe(
        {"audit", "verify", "--file", a.path("empty.jsonl"), "--checkpoint", a.path("older.note")});
    CHECK(fork.exit_code == 0); // the export itself is still genuine
}

TEST_CASE("a rewritten Merkle tree is caught and never signed", "[e2e][audit]") {
    AuditInstall a(6);
    a.ok({"audit", "checkpoint"});
    a.ok({"audit", "verify"});
    // A subtree inside the tree (read by proofs, not by the root): verify compares every one.
    a.sql("DROP TRIGGER audit_tree_no_update; "
          "UPDATE audit_tree SET hash = zeroblob(32) WHERE level = 1 AND idx = 0");
    auto r = a.f.lethe({"audit", "verify"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(named_seq(r.err) == 2);
    CHECK(r.err.find("Merkle subtree (level 1, index 0)") != std::string::npos);
    // One on the right edge, from which the next root would be computed: nothing is signed.
    a.sql("UPDATE audit_tree SET hash = zeroblob(32) WHERE level = 1 AND idx = 2");
    a.ok({"enqueue", "carol@example.com", "--request-id", "REQ-C"});
    auto cp = a.f.lethe({"audit", "checkpoint"});
    INFO(cp.err);
    CHECK(cp.exit_code == 1);
    CHECK(cp.err.find("refusing to sign") != std::string::npos);
}

TEST_CASE("a subject's proof bundle verifies offline and holds nobody else's entries",
          "[e2e][audit][proof]") {
    AuditInstall a(4);
    a.ok({"audit", "checkpoint"});
    // More entries for others after the checkpoint: the bundle gets a checkpoint covering REQ-1.
    a.ok({"cancel", "REQ-2", "--reason", "duplicate ticket"});
    a.ok({"cancel", "REQ-1", "--reason", "withdrawn"});
    a.ok({"enqueue", "zed@example.com", "--request-id", "REQ-Z"});
    auto made = a.ok({"audit", "proof", "--request", "REQ-1", "-o", a.path("p1.jsonl")});
    CHECK(made.out.find("proof of 2 entries") != std::string::npos);
    CHECK(made.out.find("(signed now)") != std::string::npos);
    const std::string bundle = read_text(a.f.dir / "p1.jsonl");
    auto ok = a.ok({"audit", "verify-proof", a.path("p1.jsonl"), "--key", a.key()});
    CHECK(ok.out.find("2 entries, each included in the checkpoint of size 7") != std::string::npos);
    // The same subject by identifier (stdin), with the stored checkpoint that now covers it.
    auto by_subject = a.f.lethe({"audit", "proof", "--subject", "-", "-o", a.path("p2.jsonl")},
                                "alice1@example.com\n", true);
    INFO(by_subject.err);
    REQUIRE(by_subject.exit_code == 0);
    CHECK(by_subject.out.find("(signed now)") == std::string::npos);
    a.ok({"audit", "verify-proof", a.path("p2.jsonl"), "--key", a.key()});
    // Nothing of the other subjects: no digest, no request id, no identifier.
    for (const char* other :
         {"alice0@example.com", "alice2@example.com", "alice3@example.com", "zed@example.com"}) {
        auto s = a.f.lethe({"audit", "subject", "-", "--json"}, other, true);
        const auto digest = json::parse(s.out)["subject_digest"].get<std::string>();
        INFO(other);
        CHECK(bundle.find(digest) == std::string::npos);
        CHECK(bundle.find(other) == std::string::npos);
    }
    for (const char* ref : {"REQ-0", "REQ-2", "REQ-3", "REQ-Z", "alice1@example.com"}) {
        CHECK(bundle.find(ref) == std::string::npos);
    }
    CHECK_FALSE(a.f.lethe({"audit", "proof", "--request", "NOPE", "-o", a.path("x")}).exit_code ==
                0);
}

TEST_CASE("a proof bundle with any byte changed fails verify-proof", "[e2e][audit][proof]") {
    AuditInstall a(3);
    a.ok({"cancel", "REQ-1", "--reason", "withdrawn"});
    a.ok({"audit", "proof", "--request", "REQ-1", "-o", a.path("p.jsonl")});
    const std::string bundle = read_text(a.f.dir / "p.jsonl");
    const std::string key = a.key();
    // A spread of positions through every line, and each line's first and last byte.
    std::set<std::size_t> positions;
    for (std::size_t i = 0; i < bundle.size(); i += bundle.size() / 40) {
        positions.insert(i);
    }
    for (std::size_t nl = bundle.find('\n'); nl != std::string::npos;
         nl = bundle.find('\n', nl + 1)) {
        positions.insert(nl);
        positions.insert(nl > 0 ? nl - 1 : 0);
        if (nl + 1 < bundle.size()) {
            positions.insert(nl + 1);
        }
    }
    for (std::size_t pos : positions) {
        std::string bad = bundle;
        bad[pos] = static_cast<char>(bad[pos] ^ 0x01);
        write_text(a.f.dir / "bad.jsonl", bad);
        auto r = a.f.lethe({"audit", "verify-proof", a.path("bad.jsonl"), "--key", key});
        INFO("byte " << pos << ": " << r.out << r.err);
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("bad.jsonl: line ") != std::string::npos);
    }
}

TEST_CASE("a relabelled range export fails; range and empty exports pass with latest.note",
          "[e2e][audit][proof]") {
    AuditInstall a(3);
    const std::string since = lethe::format_iso8601_ms(now_ms() + 50);
    ::usleep(100'000);
    a.ok({"enqueue", "bob@example.com", "--request-id", "REQ-B"});
    a.ok({"audit", "checkpoint"});
    const auto latest = (a.f.dir / "state" / "checkpoints" / "latest.note").string();
    a.ok({"audit", "export", "--since", since, "-o", a.path("range.jsonl")});
    a.ok({"audit", "export", "--since", days_ago(-30), "-o", a.path("empty.jsonl")});
    for (const char* file : {"range.jsonl", "empty.jsonl"}) {
        INFO(file);
        auto r = a.ok({"audit", "verify", "--file", a.path(file), "--checkpoint", latest});
        CHECK(r.out.find("trailer signed") != std::string::npos);
    }
    // The window relabelled wider: the members no longer match the signed trailer.
    const std::string range = read_text(a.f.dir / "range.jsonl");
    const std::string relabelled =
        replace_once(range, "\"since\":\"" + since + "\"", "\"since\":null");
    write_text(a.f.dir / "relabelled.jsonl", relabelled);
    auto r = a.f.lethe({"audit", "verify", "--file", a.path("relabelled.jsonl"), "--key", a.key()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("trailer_note: the signed trailer states another since") != std::string::npos);
    CHECK(python_verify(a.path("relabelled.jsonl"), a.key()).exit_code == 1);
    check_agreement(a, a.path("range.jsonl"), true);
}

TEST_CASE("an older genuine export fails once a newer checkpoint is given", "[e2e][audit][proof]") {
    AuditInstall a(3);
    a.ok({"audit", "checkpoint"});
    // What the operator can still show after cutting the log back to 3 entries: the export and
    // the checkpoint signed when it had 3.
    a.ok({"audit", "export", "-o", a.path("old.jsonl")});
    a.ok({"enqueue", "bob@example.com", "--request-id", "REQ-B"});
    a.ok({"audit", "checkpoint"});
    const auto latest = (a.f.dir / "state" / "checkpoints" / "latest.note").string();
    a.ok({"audit", "verify", "--file", a.path("old.jsonl"), "--key", a.key()});
    auto r = a.f.lethe({"audit", "verify", "--file", a.path("old.jsonl"), "--key", a.key(),
                        "--checkpoint", latest});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(named_seq(r.err) == 4);
    CHECK(r.err.find("entries were removed from the end, or the export is older") !=
          std::string::npos);
    // A fresh export of the whole log passes with the same checkpoint.
    a.ok({"audit", "export", "-o", a.path("new.jsonl")});
    a.ok({"audit", "verify", "--file", a.path("new.jsonl"), "--key", a.key(), "--checkpoint",
          latest});
}

TEST_CASE("a log signed by two keys in turn verifies end to end", "[e2e][audit][rotation]") {
    AuditInstall a(2);
    a.ok({"audit", "checkpoint"});
    const auto dir = a.f.dir / "state" / "checkpoints";
    write_text(a.f.dir / "old.note", read_text(dir / "latest.note"));
    a.ok({"audit", "export", "-o", a.path("before.jsonl")});
    const std::string old_key = a.key();

    // The rotation: a new key, the old one kept as previous; init creates the new key file.
    const auto toml = a.f.dir / "lethe.toml";
    const std::string base = read_text(toml);
    const std::string rotating =
        replace_once(base, "checkpoint_key_file = \"state/checkpoint.key\"\n",
                     "checkpoint_key_file = \"state/checkpoint-2.key\"\n"
                     "previous_checkpoint_key_file = \"state/checkpoint.key\"\n");
    write_text(toml, rotating);
    a.ok({"init"});
    const std::string new_key = a.key();
    REQUIRE(new_key != old_key);
    // The handover: the same head signed again, by both keys.
    a.ok({"audit", "checkpoint"});
    const std::string handover = read_text(dir / "latest.note");
    write_text(a.f.dir / "handover.note", handover);
    std::size_t lines = 0;
    for (auto at = handover.find("\xE2\x80\x94 "); at != std::string::npos;
         at = handover.find("\xE2\x80\x94 ", at + 1)) {
        ++lines;
    }
    CHECK(lines == 2);
    // The old key alone carries a verifier from its last checkpoint to the handover, which the
    // new key signed too.
    a.ok({"audit", "consistency", a.path("old.note"), a.path("handover.note"), "--key", old_key});
    a.ok({"audit", "consistency", a.path("handover.note"), a.path("handover.note"), "--key",
          new_key});

    // Retired: later notes are signed by the new key only.
    write_text(toml, replace_once(rotating,
                                  "previous_checkpoint_key_file = \"state/checkpoint.key\"\n", ""));
    a.ok({"enqueue", "after@example.com", "--request-id", "REQ-AFTER"});
    a.ok({"audit", "checkpoint"});
    a.ok({"audit", "export", "-o", a.path("after.jsonl")});
    a.ok({"cancel", "REQ-AFTER", "--reason", "test"});
    a.ok({"audit", "proof", "--request", "REQ-AFTER", "-o", a.path("bundle.jsonl")});

    const std::vector<std::string> both = {"--key", old_key, "--key", new_key};
    auto with = [](std::vector<std::string> args, const std::vector<std::string>& more) {
        args.insert(args.end(), more.begin(), more.end());
        return args;
    };
    // The database with its checkpoints of both keys, and the old and handover notes given.
    auto db = a.ok(with({"audit", "verify", "--checkpoint", a.path("old.note"), "--checkpoint",
                         a.path("handover.note")},
                        both));
    CHECK(db.out.find("old.note: size") != std::string::npos);
    a.ok({"audit", "verify"}); // the configured key alone: the stored notes are the new key's
    for (const char* file : {"before.jsonl", "after.jsonl"}) {
        INFO(file);
        a.ok(with({"audit", "verify", "--file", a.path(file)}, both));
    }
    a.ok({"audit", "verify", "--file", a.path("before.jsonl"), "--key", old_key});
    a.ok({"audit", "verify", "--file", a.path("after.jsonl"), "--key", new_key});
    a.ok(with({"audit", "verify-proof", a.path("bundle.jsonl")}, both));
    a.ok({"audit", "verify-proof", a.path("bundle.jsonl"), "--key", new_key});
    a.ok(with({"audit", "consistency", a.path("old.note"), (dir / "latest.note").string()}, both));
    // One key is not enough for what the other alone signed.
    CHECK(a.f.lethe({"audit", "verify", "--file", a.path("after.jsonl"), "--key", old_key})
              .exit_code == 1);
    CHECK(a.f.lethe({"audit", "verify", "--checkpoint", a.path("old.note"), "--key", new_key})
              .exit_code == 1);
}
