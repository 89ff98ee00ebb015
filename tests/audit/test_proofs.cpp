#include "audit/keys.hpp"
#include "audit/note.hpp"
#include "audit/proofs.hpp"
#include "audit/verify.hpp"
#include "fixture.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace lethe;

namespace {

// The signed note of the current head, as `lethe audit checkpoint` writes it.
std::string checkpoint_now(test::AuditFixture& f) {
    return read_file(audit::write_checkpoint(f.db, f.cfg, f.clock), FileKind::checkpoint_note);
}

// A note as lethe signed them before the Merkle tree: the chain head as third line.
std::string legacy_note(test::AuditFixture& f, std::int64_t size) {
    const auto head = *store::AuditSnapshot(f.db).hash_at(size);
    const auto key = audit::load_checkpoint_key(f.cfg.audit.checkpoint_key_file);
    return audit::sign_note("lethe/test\n" + std::to_string(size) + "\n" +
                                crypto::base64_encode(*from_hex(head)) + "\n",
                            "lethe/test", key);
}

} // namespace

TEST_CASE("proofs: inclusion of every entry and consistency of every pair verify",
          "[audit][proofs]") {
    test::AuditFixture f;
    const auto key = f.signer().verifier_key();
    std::vector<std::string> notes;
    for (int i = 0; i < 6; ++i) {
        f.append(i + 1); // sizes 1, 3, 6, 10, 15, 21
        notes.push_back(checkpoint_now(f));
    }
    for (std::int64_t seq = 1; seq <= 21; ++seq) {
        auto p = audit::prove_inclusion(f.db, notes.back(), key, seq);
        CHECK(audit::verify(p));
        CHECK(p.checkpoint.size == 21);
        auto j = nlohmann::json::parse(audit::to_json(p));
        CHECK(j["seq"] == seq);
        CHECK(j["proof"].size() == p.hashes.size());
    }
    CHECK_THROWS_AS(audit::prove_inclusion(f.db, notes[0], key, 2), Error);
    for (std::size_t a = 0; a < notes.size(); ++a) {
        for (std::size_t b = a; b < notes.size(); ++b) {
            auto p = audit::prove_consistency(f.db, notes[a], notes[b], key);
            CHECK(audit::verify(p));
            p.hashes.push_back(p.hashes.empty() ? std::string(32, 'x') : p.hashes.back());
            CHECK_FALSE(audit::verify(p));
        }
    }
    CHECK_THROWS_WITH(audit::prove_consistency(f.db, notes[3], notes[1], key),
                      Catch::Contains("larger than the new one"));
}

TEST_CASE("proofs: a forked log has no consistency proof", "[audit][proofs]") {
    test::AuditFixture f;
    const auto key = f.signer().verifier_key();
    f.append(5);
    const std::string old_note = checkpoint_now(f);
    // A second log under the same key (the operator's rewrite): other entries, same sizes.
    test::AuditFixture fork;
    std::filesystem::copy_file(f.cfg.audit.checkpoint_key_file, fork.cfg.audit.checkpoint_key_file,
                               std::filesystem::copy_options::overwrite_existing);
    fork.append(3);
    fork.append(4, "rewritten");
    const std::string forked_note = checkpoint_now(fork);
    CHECK_THROWS_WITH(audit::prove_consistency(fork.db, old_note, forked_note, key),
                      Catch::Contains("does not extend the old one"));
    // Its own checkpoints are consistent, and the original's stays consistent with its head.
    f.append(2);
    CHECK(audit::verify(audit::prove_consistency(f.db, old_note, checkpoint_now(f), key)));
}

TEST_CASE("proofs: legacy checkpoints are refused by proofs and still checked by verify",
          "[audit][proofs]") {
    test::AuditFixture f;
    const auto key = f.signer().verifier_key();
    f.append(4);
    const std::string legacy = legacy_note(f, 3);
    const std::string current = checkpoint_now(f);
    CHECK_THROWS_WITH(audit::prove_consistency(f.db, legacy, current, key),
                      Catch::Contains("before the Merkle tree"));
    CHECK_THROWS_WITH(audit::prove_inclusion(f.db, legacy, key, 1),
                      Catch::Contains("before the Merkle tree"));

    test::write_text(f.dir / "legacy.note", legacy);
    auto report = audit::verify_database(f.db, f.cfg, key,
                                         audit::CheckpointSources{{f.dir / "legacy.note"}, true});
    INFO(report.problem_text());
    CHECK(report.ok());
    // A legacy note whose head is not the log's is still a rewrite.
    f.drop_triggers();
    f.db.db().exec("UPDATE audit_log SET event = 'x' WHERE seq = 2");
    report = audit::verify_database(f.db, f.cfg, key,
                                    audit::CheckpointSources{{f.dir / "legacy.note"}, false});
    CHECK_FALSE(report.ok());
}
