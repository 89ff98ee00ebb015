// Recomputes the test vectors of docs/audit-format.md with the code, so the specification and
// the implementation cannot drift apart silently.
#include "audit/export.hpp"
#include "audit/flat_json.hpp"
#include "audit/keys.hpp"
#include "audit/note.hpp"
#include "audit/proof_bundle.hpp"
#include "audit/statement.hpp"
#include "crypto/crypto.hpp"
#include "crypto/merkle.hpp"
#include "fixture.hpp"
#include "store/audit_tree.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

using namespace lethe;

namespace {

std::filesystem::path doc_path() {
    const char* root = std::getenv("LETHE_SOURCE_ROOT");
    return std::filesystem::path(root != nullptr ? root : LETHE_SOURCE_ROOT_DEFAULT) / "docs" /
           "audit-format.md";
}

// Every `name = value` line inside ```vectors blocks.
std::map<std::string, std::string> doc_vectors() {
    std::ifstream in(doc_path());
    REQUIRE(in);
    std::map<std::string, std::string> v;
    std::string line;
    bool inside = false;
    while (std::getline(in, line)) {
        if (line.starts_with("```")) {
            inside = line == "```vectors";
            continue;
        }
        const auto eq = line.find(" = ");
        if (inside && eq != std::string::npos) {
            v[line.substr(0, eq)] = line.substr(eq + 3);
        }
    }
    return v;
}

std::string unescape_newlines(std::string s) {
    for (auto pos = s.find("\\n"); pos != std::string::npos; pos = s.find("\\n", pos + 1)) {
        s.replace(pos, 2, "\n");
    }
    return s;
}

store::AuditEntry doc_entry(std::map<std::string, std::string>& v, const std::string& p) {
    store::AuditEntry e;
    e.seq = std::stoll(v.at(p + ".seq"));
    e.at = v.at(p + ".at");
    e.event = v.at(p + ".event");
    e.request_ref = v.at(p + ".request_ref");
    e.subject_digest = v.at(p + ".subject_digest");
    e.detail = v.at(p + ".detail");
    e.prev_hash = v.at(p + ".prev_hash");
    e.hash = v.at(p + ".hash");
    return e;
}

crypto::Ed25519Key doc_key(const std::string& seed_hex) {
    // PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410).
    const std::string der = *from_hex("302e020100300506032b657004220420" + seed_hex);
    return crypto::Ed25519Key::from_private_pem("-----BEGIN PRIVATE KEY-----\n" +
                                                crypto::base64_encode(der) +
                                                "\n-----END PRIVATE KEY-----\n");
}

} // namespace

TEST_CASE("docs/audit-format.md: subject digest and derived request_id", "[audit][doc]") {
    auto v = doc_vectors();
    REQUIRE(v.size() >= 30);
    audit::SubjectDigester d(*from_hex(v.at("subject_key_hex")));
    CHECK(d.digest(v.at("identifier"), intake::IdType::email) == v.at("subject_digest"));
    CHECK(d.derived_request_id(v.at("identifier"), intake::IdType::email,
                               v.at("received_at_text")) == v.at("derived_request_id"));
    CHECK(v.at("e1.subject_digest") == v.at("subject_digest"));
}

TEST_CASE("docs/audit-format.md: the canonical form and its digests", "[audit][doc]") {
    auto v = doc_vectors();
    audit::SubjectDigester d(*from_hex(v.at("subject_key_hex")));
    for (const std::string p : {"d1", "d2", "d3", "d4"}) {
        INFO(p);
        const auto type = intake::parse_id_type(v.at(p + ".id_type"));
        REQUIRE(type);
        const auto& identifier = v.at(p + ".identifier");
        CHECK(audit::canonical_subject(identifier, *type) == v.at(p + ".canonical"));
        CHECK(d.digest(identifier, *type) == v.at(p + ".subject_digest"));
        CHECK(d.digest_as_given(v.at(p + ".canonical")) == v.at(p + ".subject_digest"));
    }
    CHECK(d.derived_request_id(v.at("d1.identifier"), intake::IdType::email,
                               v.at("d1.received_at_text")) == v.at("d1.derived_request_id"));
    // The same address in another case is the same subject and the same derived request.
    CHECK(d.digest("jane.doe@example.com", intake::IdType::email) == v.at("d1.subject_digest"));
    CHECK(d.derived_request_id("JANE.DOE@EXAMPLE.COM", intake::IdType::email, "2026-11-01") ==
          v.at("d1.derived_request_id"));
}

TEST_CASE("docs/audit-format.md: entry encodings and hashes", "[audit][doc]") {
    auto v = doc_vectors();
    const auto e1 = doc_entry(v, "e1");
    const auto e2 = doc_entry(v, "e2");
    CHECK(to_hex(store::audit_entry_encoding(e1)) == v.at("e1.encoding_hex"));
    CHECK(store::audit_entry_hash(e1) == e1.hash);
    CHECK(store::audit_entry_hash(e2) == e2.hash);
    CHECK(e1.prev_hash == store::k_genesis_hash);
    CHECK(e2.prev_hash == e1.hash);
}

TEST_CASE("docs/audit-format.md: checkpoint note, key ID and verifier key", "[audit][doc]") {
    auto v = doc_vectors();
    const auto key = doc_key(v.at("ed25519_seed_hex"));
    CHECK(to_hex(key.public_raw()) == v.at("ed25519_public_hex"));
    const std::string origin = v.at("origin");
    const auto vkey = audit::note_verifier_key(origin, key);
    CHECK(to_hex(std::string{static_cast<char>(vkey.id >> 24), static_cast<char>(vkey.id >> 16),
                             static_cast<char>(vkey.id >> 8), static_cast<char>(vkey.id)}) ==
          v.at("key_id_hex"));
    CHECK(audit::format_verifier_key(vkey) == v.at("verifier_key"));

    audit::CheckpointSigner signer(origin, doc_key(v.at("ed25519_seed_hex")));
    const auto text = audit::checkpoint_text(audit::Checkpoint{
        origin, std::stoll(v.at("checkpoint.size")), v.at("tree.root_2"), v.at("e2.hash")});
    CHECK(text == unescape_newlines(v.at("checkpoint.text")));
    const std::string note = signer.sign(2, v.at("tree.root_2"), v.at("e2.hash"));
    CHECK(note == unescape_newlines(v.at("checkpoint.note")));

    std::string error;
    auto parsed_key = audit::parse_verifier_key(v.at("verifier_key"), error);
    REQUIRE(parsed_key);
    auto cp = audit::open_checkpoint(note, *parsed_key, error);
    INFO(error);
    REQUIRE(cp);
    CHECK(cp->size == 2);
    CHECK(cp->root_hash == v.at("tree.root_2"));
    CHECK(cp->head_hash == v.at("e2.hash"));

    // A note of lethe before the Merkle tree still opens: its third line is the chain head.
    const std::string legacy_note = unescape_newlines(v.at("legacy_checkpoint.note"));
    CHECK(legacy_note.starts_with(unescape_newlines(v.at("legacy_checkpoint.text"))));
    auto legacy = audit::open_checkpoint(legacy_note, *parsed_key, error);
    REQUIRE(legacy);
    CHECK(legacy->legacy());
    CHECK(legacy->head_hash == v.at("e2.hash"));
}

TEST_CASE("docs/audit-format.md: Merkle leaves, roots and proofs", "[audit][doc][merkle]") {
    namespace merkle = crypto::merkle;
    auto v = doc_vectors();
    const auto raw = [](const std::string& hex) {
        return *from_hex(hex);
    };
    const std::string l1 = merkle::leaf_hash(raw(v.at("e1.hash")));
    const std::string l2 = merkle::leaf_hash(raw(v.at("e2.hash")));
    CHECK(to_hex(l1) == v.at("e1.leaf_hash"));
    CHECK(to_hex(l2) == v.at("e2.leaf_hash"));
    CHECK(to_hex(merkle::empty_root()) == v.at("tree.root_0"));
    CHECK(to_hex(l1) == v.at("tree.root_1"));
    CHECK(to_hex(merkle::node_hash(l1, l2)) == v.at("tree.root_2"));

    // The same through the real append path and the stored tree: the two documented entries.
    test::AuditFixture f;
    {
        SQLite::Transaction tx(f.db.db());
        store::AuditAppender a(f.db.db(), f.clock);
        for (const char* e : {"e1", "e2"}) {
            const std::string p = e;
            f.clock.set(*parse_iso8601(v.at(p + ".at")));
            a.append(v.at(p + ".event"), v.at(p + ".request_ref"), v.at(p + ".subject_digest"),
                     v.at(p + ".detail"));
        }
        tx.commit();
    }
    store::AuditTreeReader reader(f.db.db());
    CHECK(to_hex(reader.root(1)) == v.at("tree.root_1"));
    CHECK(to_hex(reader.root(2)) == v.at("tree.root_2"));
    const merkle::NodeReader doc_tree = reader.reader();

    const auto incl = merkle::inclusion_proof(std::stoll(v.at("inclusion.seq")) - 1,
                                              std::stoll(v.at("inclusion.size")), doc_tree);
    REQUIRE(incl.size() == 1);
    CHECK(to_hex(incl[0]) == v.at("inclusion.proof"));
    CHECK(merkle::verify_inclusion(0, 2, l1, incl, raw(v.at("tree.root_2"))));
    const auto cons = merkle::consistency_proof(std::stoll(v.at("consistency.old_size")),
                                                std::stoll(v.at("consistency.new_size")), doc_tree);
    REQUIRE(cons.size() == 1);
    CHECK(to_hex(cons[0]) == v.at("consistency.proof"));
    CHECK(
        merkle::verify_consistency(1, 2, raw(v.at("tree.root_1")), raw(v.at("tree.root_2")), cons));
}

TEST_CASE("docs/audit-format.md: JSON Lines export lines", "[audit][doc]") {
    auto v = doc_vectors();
    // Writes the two documented entries through the real code path and exports them.
    test::AuditFixture f;
    f.clock.set(*parse_iso8601(v.at("e1.at")));
    {
        SQLite::Transaction tx(f.db.db());
        store::AuditAppender a(f.db.db(), f.clock);
        a.append(v.at("e1.event"), v.at("e1.request_ref"), v.at("e1.subject_digest"),
                 v.at("e1.detail"));
        f.clock.set(*parse_iso8601(v.at("e2.at")));
        a.append(v.at("e2.event"), v.at("e2.request_ref"), v.at("e2.subject_digest"),
                 v.at("e2.detail"));
        tx.commit();
    }
    audit::ExportOptions o;
    o.output = f.dir / "export.jsonl";
    o.checkpoint_dir = f.cfg.audit.checkpoint_dir;
    audit::export_audit_log(f.db, f.signer(), f.clock, o);
    std::istringstream lines(test::read_text(o.output));
    std::string l1, l2, trailer;
    std::getline(lines, l1);
    std::getline(lines, l2);
    std::getline(lines, trailer);
    CHECK(l1 == v.at("e1.jsonl"));
    CHECK(l2 == v.at("e2.jsonl"));
    CHECK(trailer.starts_with(R"({"type":"checkpoint","format":"lethe-audit-export/3",)"));
    CHECK(trailer.find(R"(,"trailer_note":"lethe-audit-export/3\norigin lethe/test\n)") !=
          std::string::npos);

    // And back: the decoded detail is the exact hashed text.
    audit::FlatJsonParser p;
    std::string error;
    REQUIRE(p.parse(v.at("e1.jsonl"), error));
    CHECK(p.get("detail")->text == v.at("e1.detail"));
}

TEST_CASE("docs/audit-format.md: the signed export trailer", "[audit][doc][bundle]") {
    auto v = doc_vectors();
    audit::CheckpointSigner signer(v.at("origin"), doc_key(v.at("ed25519_seed_hex")));
    const std::string start_note =
        signer.sign(0, to_hex(crypto::merkle::empty_root()), std::string(store::k_genesis_hash));
    CHECK(start_note == unescape_newlines(v.at("trailer.start_note")));
    audit::ExportTrailer t;
    t.origin = v.at("origin");
    t.first_seq = 1;
    t.last_seq = 2;
    t.count = 2;
    t.log_size = 2;
    t.log_head = v.at("e2.hash");
    t.exported_at = v.at("trailer.exported_at");
    t.start_note = start_note;
    t.end_note = unescape_newlines(v.at("checkpoint.note"));
    t.head_note = t.end_note;
    const auto statement = audit::trailer_statement(t);
    CHECK(audit::statement_text(statement) == unescape_newlines(v.at("trailer.text")));
    CHECK(signer.sign_statement(statement) == unescape_newlines(v.at("trailer.note")));
}

TEST_CASE("docs/audit-format.md: the proof bundle", "[audit][doc][bundle]") {
    auto v = doc_vectors();
    audit::CheckpointSigner signer(v.at("origin"), doc_key(v.at("ed25519_seed_hex")));
    std::string bundle;
    for (int i = 1; i <= 6; ++i) {
        bundle += v.at("bundle.line" + std::to_string(i)) + "\n";
    }
    const audit::BundleTrust trust{signer.verifier_key(), {}};
    auto report = audit::verify_proof_bundle(bundle, trust);
    INFO(report.problem_text());
    CHECK(report.ok());
    CHECK(report.count == 2);
    // lethe writes the same bytes.
    const std::vector<audit::BundleEntry> entries = {
        {doc_entry(v, "e1"), {*from_hex(v.at("e2.leaf_hash"))}},
        {doc_entry(v, "e2"), {*from_hex(v.at("e1.leaf_hash"))}}};
    CHECK(audit::assemble_bundle(signer, unescape_newlines(v.at("checkpoint.note")), 2,
                                 {v.at("subject_digest")}, entries) == bundle);
    std::string error;
    auto statement = audit::open_statement(unescape_newlines(v.at("bundle.statement_note")),
                                           signer.verifier_key(), error);
    REQUIRE(statement);
    CHECK(audit::statement_text(*statement) == unescape_newlines(v.at("bundle.statement_text")));
}
