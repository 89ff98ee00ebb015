#include "audit/export.hpp"
#include "audit/flat_json.hpp"
#include "audit/verify.hpp"
#include "fixture.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

#include <catch2/catch.hpp>
#include <cstring>

using namespace lethe;

namespace {

audit::VerifyReport verify_db(test::AuditFixture& f,
                              std::vector<std::filesystem::path> checkpoints = {}) {
    return audit::verify_database(f.db, f.cfg, f.signer().verifier_key(),
                                  audit::CheckpointSources{std::move(checkpoints), true});
}

std::filesystem::path export_to(test::AuditFixture& f, const std::string& name,
                                audit::ExportFormat format = audit::ExportFormat::jsonl,
                                std::optional<TimeMs> since = {},
                                std::optional<TimeMs> until = {}) {
    audit::ExportOptions o;
    o.format = format;
    o.output = f.dir / name;
    o.checkpoint_dir = f.cfg.audit.checkpoint_dir;
    o.since = since;
    o.until = until;
    audit::export_audit_log(f.db, f.signer(), f.clock, o);
    return o.output;
}

audit::VerifyReport verify_file(test::AuditFixture& f, const std::filesystem::path& file) {
    return audit::verify_export_file(file, f.signer().verifier_key(), {});
}

std::optional<std::int64_t> bad_seq(const audit::VerifyReport& r) {
    return r.problem ? r.problem->seq : std::nullopt;
}

// Replaces the first occurrence of `from` in the file with `to`.
void edit(const std::filesystem::path& file, const std::string& from, const std::string& to) {
    std::string text = test::read_text(file);
    const auto pos = text.find(from);
    REQUIRE(pos != std::string::npos);
    text.replace(pos, from.size(), to);
    write_file_atomic(file, text);
}

} // namespace

TEST_CASE("verify: an intact database verifies, with and without checkpoints", "[audit][verify]") {
    test::AuditFixture f;
    CHECK(verify_db(f).ok());
    f.append(10);
    auto r = verify_db(f);
    CHECK(r.ok());
    CHECK(r.count == 10);
    const auto cp = audit::write_checkpoint(f.db, f.cfg, f.clock);
    CHECK(std::filesystem::exists(cp));
    CHECK(std::filesystem::exists(f.cfg.audit.checkpoint_dir / "latest.note"));
    CHECK(f.count("SELECT count(*) FROM checkpoints WHERE size = 10") == 1);
    f.append(3);
    r = verify_db(f, {cp});
    CHECK(r.ok());
    CHECK(r.signed_size == 10);
}

TEST_CASE("verify: a changed entry is named by its seq", "[audit][verify]") {
    test::AuditFixture f;
    f.append(10);
    f.drop_triggers();
    f.db.db().exec(R"(UPDATE audit_log SET detail = '{"i":99}' WHERE seq = 7)");
    auto r = verify_db(f);
    REQUIRE_FALSE(r.ok());
    CHECK(bad_seq(r) == 7);
    CHECK(r.problem_text().find("changed") != std::string::npos);
}

TEST_CASE("verify: entries removed from the end are caught with a checkpoint", "[audit][verify]") {
    test::AuditFixture f;
    f.append(10);
    const auto cp = audit::write_checkpoint(f.db, f.cfg, f.clock);
    f.drop_triggers();
    f.db.db().exec("DELETE FROM audit_log WHERE seq > 8; DELETE FROM checkpoints");
    std::filesystem::remove(f.cfg.audit.checkpoint_dir / "latest.note");
    // Without any checkpoint the shorter chain is consistent...
    CHECK(audit::verify_database(f.db, f.cfg, f.signer().verifier_key(), {{}, false}).ok());
    // ...the checkpoint kept elsewhere shows what is missing.
    auto r = verify_db(f, {cp});
    REQUIRE_FALSE(r.ok());
    CHECK(bad_seq(r) == 9);
    CHECK(r.problem_text().find("removed") != std::string::npos);
    // And no new checkpoint is signed over the truncated log while latest.note is kept.
    write_file_atomic(f.cfg.audit.checkpoint_dir / "latest.note", test::read_text(cp));
    CHECK_THROWS_WITH(audit::write_checkpoint(f.db, f.cfg, f.clock),
                      Catch::Contains("refusing to sign") && Catch::Contains("seq 9"));
}

TEST_CASE("verify: a checkpoint with a bad signature is caught", "[audit][verify]") {
    test::AuditFixture f;
    f.append(4);
    const auto cp = audit::write_checkpoint(f.db, f.cfg, f.clock);
    std::string note = test::read_text(cp);
    const auto pos = note.rfind(' ') + 10;
    note[pos] = note[pos] == 'A' ? 'B' : 'A';
    write_file_atomic(f.dir / "bad.note", note);
    auto r = verify_db(f, {f.dir / "bad.note"});
    REQUIRE_FALSE(r.ok());
    CHECK(r.problem_text().find("signature does not verify") != std::string::npos);
}

TEST_CASE("export: full and range exports verify on their own", "[audit][export]") {
    test::AuditFixture f;
    const TimeMs t0 = f.clock.now_ms();
    f.append(20);
    audit::write_checkpoint(f.db, f.cfg, f.clock);
    f.append(5);

    auto full = verify_file(f, export_to(f, "full.jsonl"));
    INFO(full.problem_text());
    CHECK(full.ok());
    CHECK(full.count == 25);

    // Entries 6..15 were stamped t0+5 .. t0+14.
    auto range =
        verify_file(f, export_to(f, "range.jsonl", audit::ExportFormat::jsonl, t0 + 5, t0 + 15));
    INFO(range.problem_text());
    CHECK(range.ok());
    CHECK(range.first_seq == 6);
    CHECK(range.last_seq == 15);

    auto csv = verify_file(f, export_to(f, "full.csv", audit::ExportFormat::csv));
    INFO(csv.problem_text());
    CHECK(csv.ok());
    CHECK(csv.count == 25);

    auto none =
        verify_file(f, export_to(f, "none.jsonl", audit::ExportFormat::jsonl, t0 + 1'000'000, {}));
    INFO(none.problem_text());
    CHECK(none.ok());
    CHECK(none.count == 0);
}

TEST_CASE("export: tampering with an export is caught", "[audit][export]") {
    test::AuditFixture f;
    const TimeMs t0 = f.clock.now_ms();
    f.append(10);
    const auto file = export_to(f, "e.jsonl");
    SECTION("a changed line") {
        edit(file, R"(\"i\":4})", R"(\"i\":5})");
        CHECK(bad_seq(verify_file(f, file)) == 5);
    }
    SECTION("a removed line") {
        std::string text = test::read_text(file);
        const auto start = text.find(R"({"seq":3,)");
        text.erase(start, text.find('\n', start) + 1 - start);
        write_file_atomic(file, text);
        CHECK(bad_seq(verify_file(f, file)) == 3);
    }
    SECTION("the last entries removed") {
        std::string text = test::read_text(file);
        const auto cut = text.find(R"({"seq":9,)");
        text.erase(cut, text.find(R"({"type":"checkpoint")") - cut);
        write_file_atomic(file, text);
        auto r = verify_file(f, file);
        CHECK(bad_seq(r) == 9);
        CHECK(r.problem_text().find("removed") != std::string::npos);
    }
    SECTION("an appended forged entry, correctly chained") {
        std::string text = test::read_text(file);
        const auto trailer = text.find(R"({"type":"checkpoint")");
        // The forger knows the format: the entry links to the last one and hashes correctly.
        auto chain = [&] {
            SQLite::Statement q(f.db.db(), "SELECT hash FROM audit_log WHERE seq = 10");
            q.executeStep();
            store::AuditEntry e{11,
                                "2026-11-22T13:00:00.000Z",
                                "request.done",
                                "FORGED",
                                "",
                                "{}",
                                q.getColumn(0).getString(),
                                ""};
            e.hash = store::audit_entry_hash(e);
            return e;
        }();
        const std::string line = R"({"seq":11,"at":"2026-11-22T13:00:00.000Z",)"
                                 R"("event":"request.done","request_ref":"FORGED",)"
                                 R"("subject_digest":"","detail":"{}","prev_hash":")" +
                                 chain.prev_hash + R"(","hash":")" + chain.hash + "\"}\n";
        text.insert(trailer, line);
        write_file_atomic(file, text);
        auto r = verify_file(f, file);
        CHECK(bad_seq(r) == 11);
        CHECK(r.problem_text().find("added later") != std::string::npos);
    }
    SECTION("a line after the trailer") {
        std::string text = test::read_text(file) + "{\"seq\":11}\n";
        write_file_atomic(file, text);
        CHECK_FALSE(verify_file(f, file).ok());
    }
    SECTION("a range export with its first entry removed") {
        const auto range = export_to(f, "r.jsonl", audit::ExportFormat::jsonl, t0 + 3, {});
        std::string text = test::read_text(range);
        text.erase(0, text.find('\n') + 1);
        write_file_atomic(range, text);
        CHECK(bad_seq(verify_file(f, range)) == 4);
    }
    SECTION("a CSV row changed") {
        const auto csv = export_to(f, "e.csv", audit::ExportFormat::csv);
        edit(csv, R"(""i"":6})", R"(""i"":7})");
        CHECK(bad_seq(verify_file(f, csv)) == 7);
    }
}

TEST_CASE("export: refuses to sign a broken chain", "[audit][export]") {
    test::AuditFixture f;
    f.append(5);
    f.drop_triggers();
    f.db.db().exec(R"(UPDATE audit_log SET detail = '{}' WHERE seq = 2)");
    CHECK_THROWS_WITH(export_to(f, "x.jsonl"), Catch::Contains("seq 2"));
    CHECK_FALSE(std::filesystem::exists(f.dir / "x.jsonl"));
}

TEST_CASE("export: a break early in a long log stops the export and leaves no file",
          "[audit][export]") {
    // The chain is checked on a second thread while entries are written: a break in its first
    // batch must still be named exactly, and the export stop long before the end.
    test::AuditFixture f;
    f.append(20000);
    f.drop_triggers();
    f.db.db().exec(R"(UPDATE audit_log SET detail = '{"i":-1}' WHERE seq = 100)");
    CHECK_THROWS_WITH(export_to(f, "long.jsonl"), Catch::Contains("seq 100"));
    CHECK_FALSE(std::filesystem::exists(f.dir / "long.jsonl"));
    CHECK_THROWS_WITH(export_to(f, "long.csv", audit::ExportFormat::csv),
                      Catch::Contains("seq 100"));
    CHECK_FALSE(std::filesystem::exists(f.dir / "long.csv"));
}

TEST_CASE("export: entries bigger than the write buffer and full of escapes export faithfully",
          "[audit][export]") {
    test::AuditFixture f;
    // A detail of about 600 KB whose escaped form (up to 6 bytes per byte) is bigger than the
    // 1 MiB output block, between runs of small entries that fill and flush the block.
    std::string big = R"({"note":")";
    for (int i = 0; i < 60'000; ++i) {
        big += R"(a\"b\\c\u0001Ω)";
    }
    big += R"("})";
    f.append(3000);
    {
        SQLite::Transaction tx(f.db.db());
        store::AuditAppender a(f.db.db(), f.clock);
        a.append("test.big", "RBIG", "", big);
        tx.commit();
    }
    f.append(3000);

    for (auto format : {audit::ExportFormat::jsonl, audit::ExportFormat::csv}) {
        const auto file = export_to(f, "big.export", format);
        auto report = verify_file(f, file);
        INFO(report.problem_text());
        CHECK(report.ok());
        CHECK(report.count == 6001);
    }
    const std::string text = test::read_text(export_to(f, "big.jsonl"));
    const auto start = text.find("\"event\":\"test.big\"");
    REQUIRE(start != std::string::npos);
    const auto line_start = text.rfind('\n', start) + 1;
    const std::string line = text.substr(line_start, text.find('\n', start) - line_start);
    audit::FlatJsonParser parser;
    std::string error;
    REQUIRE(parser.parse(line, error));
    CHECK(parser.get("detail")->text == big);
}

TEST_CASE("export: every trailer member that matters is signed; format 2 still reads",
          "[audit][export]") {
    test::AuditFixture f;
    const TimeMs t0 = f.clock.now_ms();
    f.append(6);
    const auto file = export_to(f, "r.jsonl", audit::ExportFormat::jsonl, t0 + 2);
    const std::string good = test::read_text(file);
    REQUIRE(verify_file(f, file).ok());
    const auto trailer_at = good.find(R"({"type":"checkpoint")");
    // Each member changed in turn (a value that parses, so only the signature can catch it).
    const std::pair<const char*, const char*> edits[] = {
        {R"("since":")", R"("since":"1)"},
        {R"("until":null)", R"("until":"2030-01-01T00:00:00.000Z")"},
        {R"("exported_at":")", R"("exported_at":"1)"},
        {R"("origin":"lethe/test")", R"("origin":"lethe/test2")"},
    };
    for (const auto& [from, to] : edits) {
        INFO(from);
        std::string bad = good;
        const auto at = bad.find(from, trailer_at);
        REQUIRE(at != std::string::npos);
        bad.replace(at, std::strlen(from), to);
        write_file_atomic(file, bad);
        auto r = verify_file(f, file);
        CHECK_FALSE(r.ok());
    }
    // As lethe wrote it before the signed trailer: verifies, and says what is not covered.
    std::string v2 = good;
    v2.replace(v2.find("lethe-audit-export/3"), 20, "lethe-audit-export/2");
    v2.erase(v2.find(R"(,"trailer_note":)"), std::string::npos);
    v2 += "}\n";
    write_file_atomic(file, v2);
    auto r = verify_file(f, file);
    INFO(r.problem_text());
    REQUIRE(r.ok());
    bool warned = false;
    for (const auto& n : r.notes) {
        warned = warned || n.find("NOT COVERED") != std::string::npos;
    }
    CHECK(warned);
}
