#include "audit/checkpoint.hpp"
#include "audit/note.hpp"

#include <catch2/catch.hpp>

using namespace lethe;

TEST_CASE("a signed checkpoint opens with its verifier key", "[audit][note]") {
    audit::CheckpointSigner signer("lethe/test", crypto::Ed25519Key::generate());
    const std::string head(64, 'a');
    const std::string note = signer.sign(7, head);
    CHECK(note.starts_with("lethe/test\n7\n"));
    CHECK(note.find("\n\n\xE2\x80\x94 lethe/test ") != std::string::npos);
    std::string error;
    auto key = audit::parse_verifier_key(audit::format_verifier_key(signer.verifier_key()), error);
    REQUIRE(key);
    auto cp = audit::open_checkpoint(note, *key, error);
    REQUIRE(cp);
    CHECK(cp->origin == "lethe/test");
    CHECK(cp->size == 7);
    CHECK(cp->head_hash == head);
}

TEST_CASE("a checkpoint with a bad signature is refused", "[audit][note]") {
    audit::CheckpointSigner signer("lethe/test", crypto::Ed25519Key::generate());
    std::string note = signer.sign(7, std::string(64, 'a'));
    const auto key = signer.verifier_key();
    std::string error;

    SECTION("the signed text changed") {
        note.replace(note.find("\n7\n"), 3, "\n8\n");
        CHECK_FALSE(audit::open_checkpoint(note, key, error));
        CHECK(error.find("signature does not verify") != std::string::npos);
    }
    SECTION("a signature byte changed") {
        const auto pos = note.rfind(' ') + 20;
        note[pos] = note[pos] == 'A' ? 'B' : 'A';
        CHECK_FALSE(audit::open_checkpoint(note, key, error));
        CHECK(error.find("signature does not verify") != std::string::npos);
    }
    SECTION("signed by another key") {
        audit::CheckpointSigner other("lethe/test", crypto::Ed25519Key::generate());
        CHECK_FALSE(audit::open_checkpoint(other.sign(7, std::string(64, 'a')), key, error));
        CHECK(error.find("not signed by the trusted key") != std::string::npos);
    }
    SECTION("no signature at all") {
        CHECK_FALSE(audit::open_checkpoint(note.substr(0, note.find("\n\n") + 1), key, error));
    }
}

TEST_CASE("verifier keys are checked for consistency", "[audit][note]") {
    audit::CheckpointSigner signer("lethe/test", crypto::Ed25519Key::generate());
    std::string text = audit::format_verifier_key(signer.verifier_key());
    std::string error;
    // A wrong key ID for the name and key.
    text[text.find('+') + 1] = text[text.find('+') + 1] == '0' ? '1' : '0';
    CHECK_FALSE(audit::parse_verifier_key(text, error));
    CHECK_FALSE(audit::parse_verifier_key("lethe test+00000000+AAAA", error));
}
