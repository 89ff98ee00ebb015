#include "audit/proof_bundle.hpp"
#include "audit/statement.hpp"
#include "fixture.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>

using namespace lethe;

namespace {

const std::string k_alice(64, 'a');
const std::string k_bob(64, 'b');
const std::string k_alice_old(64, 'c');

// A log of interleaved subjects: alice at seqs 2, 4, 7 (7 under her older digest), bob elsewhere.
void interleaved_log(test::AuditFixture& f) {
    SQLite::Transaction tx(f.db.db());
    store::AuditAppender a(f.db.db(), f.clock);
    const std::pair<const char*, const std::string*> rows[] = {
        {"B1", &k_bob}, {"A1", &k_alice}, {"B1", &k_bob},       {"A1", &k_alice},
        {"", nullptr},  {"B2", &k_bob},   {"A0", &k_alice_old}, {"B2", &k_bob}};
    for (const auto& [ref, digest] : rows) {
        a.append("test.event", ref, digest ? *digest : std::string(), R"({"n":1})");
        f.clock.advance(1);
    }
    tx.commit();
}

audit::BundleTrust trust(const test::AuditFixture& f) {
    return audit::BundleTrust{f.signer().verifier_key(), {}};
}

} // namespace

TEST_CASE("proof bundle: a subject's entries verify and nothing of others is in it",
          "[audit][bundle]") {
    test::AuditFixture f;
    interleaved_log(f);
    auto bundle = audit::make_proof_bundle(f.db, f.cfg, f.clock, {k_alice, k_alice_old});
    CHECK(bundle.entries == 3);
    CHECK(bundle.signed_now); // no checkpoint covered them yet
    CHECK(bundle.tree_size == 8);
    auto report = audit::verify_proof_bundle(bundle.text, trust(f));
    INFO(report.problem_text());
    CHECK(report.ok());
    CHECK(report.count == 3);
    CHECK(bundle.text.find(k_bob) == std::string::npos);
    CHECK(bundle.text.find("\"request_ref\":\"B") == std::string::npos);

    // A second bundle reuses the stored checkpoint that now covers them.
    auto again = audit::make_proof_bundle(f.db, f.cfg, f.clock, {k_alice});
    CHECK_FALSE(again.signed_now);
    CHECK(again.entries == 2);
    CHECK(audit::verify_proof_bundle(again.text, trust(f)).ok());
}

TEST_CASE("proof bundle: every changed byte fails", "[audit][bundle]") {
    test::AuditFixture f;
    interleaved_log(f);
    const auto text = audit::make_proof_bundle(f.db, f.cfg, f.clock, {k_alice, k_alice_old}).text;
    const auto t = trust(f);
    REQUIRE(audit::verify_proof_bundle(text, t).ok());
    std::size_t passed = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        for (unsigned char flip : {0x01, 0x20}) {
            std::string bad = text;
            bad[i] = static_cast<char>(static_cast<unsigned char>(bad[i]) ^ flip);
            if (audit::verify_proof_bundle(bad, t).ok()) {
                ++passed;
                UNSCOPED_INFO("byte " << i << " ^ " << int(flip) << " still verifies: "
                                      << text.substr(i > 20 ? i - 20 : 0, 40));
            }
        }
    }
    CHECK(passed == 0);
    // Dropped lines and a truncated end fail too.
    CHECK_FALSE(audit::verify_proof_bundle(text.substr(0, text.size() - 1), t).ok());
    const auto second_line = text.find('\n') + 1;
    const auto third_line = text.find('\n', text.find('\n', second_line) + 1) + 1;
    CHECK_FALSE(
        audit::verify_proof_bundle(text.substr(0, second_line) + text.substr(third_line), t).ok());
}

TEST_CASE("proof bundle: another key, no entries, an unknown request", "[audit][bundle]") {
    test::AuditFixture f;
    interleaved_log(f);
    const auto text = audit::make_proof_bundle(f.db, f.cfg, f.clock, {k_alice}).text;
    test::TempDir other;
    auto other_cfg = test::AuditFixture::make_config(other);
    const audit::BundleTrust wrong{audit::CheckpointSigner::from_config(other_cfg).verifier_key(),
                                   {}};
    auto r = audit::verify_proof_bundle(text, wrong);
    CHECK_FALSE(r.ok());
    CHECK(r.problem_text().find("line 1: statement:") != std::string::npos);
    CHECK_THROWS_AS(audit::make_proof_bundle(f.db, f.cfg, f.clock, {std::string(64, 'd')}), Error);
    CHECK_THROWS_AS(audit::request_digests(f.db, "NOPE"), Error);
}

TEST_CASE("statement: text round-trips and differences are named", "[audit][bundle]") {
    audit::Statement s{"lethe-audit-export/3", {}};
    s.add("origin", "lethe/example");
    s.add("start_tree", "");
    const auto text = audit::statement_text(s);
    CHECK(text == "lethe-audit-export/3\norigin lethe/example\nstart_tree \n");
    std::string error;
    auto back = audit::parse_statement_text(text, error);
    REQUIRE(back);
    CHECK(audit::first_difference(s, *back).empty());
    back->members[1].second = "x";
    CHECK(audit::first_difference(s, *back) == "start_tree");
    CHECK_FALSE(audit::parse_statement_text("lethe/example\n2\n", error));
}
