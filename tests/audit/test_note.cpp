#include "audit/checkpoint.hpp"
#include "audit/note.hpp"

#include <catch2/catch.hpp>

using namespace lethe;

TEST_CASE("a signed checkpoint opens with its verifier key", "[audit][note]") {
    audit::CheckpointSigner signer("lethe/test", crypto::Ed25519Key::generate());
    const std::string head(64, 'a');
    const std::string root(64, 'b');
    const std::string note = signer.sign(7, root, head);
    CHECK(note.starts_with(
        "lethe/test\n7\nu7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7s=\nchain-head " + head +
        "\n\n"));
    CHECK(note.find("\n\n\xE2\x80\x94 lethe/test ") != std::string::npos);
    std::string error;
    auto key = audit::parse_verifier_key(audit::format_verifier_key(signer.verifier_key()), error);
    REQUIRE(key);
    auto cp = audit::open_checkpoint(note, *key, error);
    REQUIRE(cp);
    CHECK(cp->origin == "lethe/test");
    CHECK(cp->size == 7);
    CHECK(cp->head_hash == head);
    CHECK(cp->root_hash == root);
    CHECK_FALSE(cp->legacy());
}

TEST_CASE("checkpoint texts: legacy notes, extension lines and malformed ones", "[audit][note]") {
    std::string error;
    const std::string root_b64 = "u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7s=";
    // Before the Merkle tree, the third line was the chain head and there was no extension.
    auto legacy = audit::parse_checkpoint_text("o\n3\n" + root_b64 + "\n", error);
    REQUIRE(legacy);
    CHECK(legacy->legacy());
    CHECK(legacy->head_hash == std::string(64, 'b'));
    // Unknown extension lines are ignored, wherever they are.
    auto ext = audit::parse_checkpoint_text(
        "o\n3\n" + root_b64 + "\nother thing\nchain-head " + std::string(64, 'c') + "\n", error);
    REQUIRE(ext);
    CHECK(ext->root_hash == std::string(64, 'b'));
    CHECK(ext->head_hash == std::string(64, 'c'));
    CHECK_FALSE(audit::parse_checkpoint_text(
        "o\n3\n" + root_b64 + "\nchain-head " + std::string(64, 'C') + "\n", error));
    CHECK_FALSE(audit::parse_checkpoint_text("o\n3\n" + root_b64 + "\nchain-head " +
                                                 std::string(64, 'c') + "\nchain-head " +
                                                 std::string(64, 'c') + "\n",
                                             error));
    CHECK(error.find("two chain-head") != std::string::npos);
    CHECK_FALSE(audit::parse_checkpoint_text("o\n3\n" + root_b64 + "\n\n", error));
    CHECK_THROWS(audit::checkpoint_text(audit::Checkpoint{"o", 3, "", std::string(64, 'c')}));
}

TEST_CASE("a checkpoint with a bad signature is refused", "[audit][note]") {
    audit::CheckpointSigner signer("lethe/test", crypto::Ed25519Key::generate());
    std::string note = signer.sign(7, std::string(64, 'b'), std::string(64, 'a'));
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
        CHECK_FALSE(audit::open_checkpoint(
            other.sign(7, std::string(64, 'b'), std::string(64, 'a')), key, error));
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
