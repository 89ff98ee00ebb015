// Unit tests of C2SP tlog-cosignature lines and witness keys (src/audit/cosignature.hpp).
#include "audit/cosignature.hpp"
#include "support/tempdir.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>

using namespace lethe;
using namespace lethe::audit;

namespace {

const std::string k_text = "example.org/log\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";

std::string signed_note(const crypto::Ed25519Key& log_key) {
    return sign_note(k_text, "example.org/log", log_key);
}

ParsedNote parse(const std::string& note) {
    std::string error;
    auto p = parse_note(note, error);
    INFO(error);
    REQUIRE(p);
    return *p;
}

} // namespace

TEST_CASE("a cosignature verifies with the witness's key and carries its time", "[witness]") {
    const auto witness = generate_witness_key("witness.example/w1");
    const auto log_key = crypto::Ed25519Key::generate();
    const std::string note = signed_note(log_key) + cosign(k_text, witness, 1'700'000'123);
    const auto r = check_cosignature(parse(note), witness.verifier);
    CHECK(r.check == CosignatureCheck::ok);
    CHECK(r.time == 1'700'000'123);
    // The log's own signature still verifies beside it.
    CHECK(check_note(parse(note), note_verifier_key("example.org/log", log_key)) == NoteCheck::ok);
    // Another witness's key finds nothing to check.
    const auto other = generate_witness_key("witness.example/w2");
    CHECK(check_cosignature(parse(note), other.verifier).check == CosignatureCheck::missing);
    CHECK(cosigners(parse(note), {other.verifier, witness.verifier}) ==
          std::vector<std::string>{"witness.example/w1"});
}

TEST_CASE("a cosignature over another text, time or key does not verify", "[witness]") {
    const auto witness = generate_witness_key("witness.example/w1");
    const auto log_key = crypto::Ed25519Key::generate();
    const std::string line = cosign(k_text, witness, 1'700'000'000);
    SECTION("another checkpoint") {
        const std::string other =
            "example.org/log\n6\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
        const std::string note = sign_note(other, "example.org/log", log_key) + line;
        CHECK(check_cosignature(parse(note), witness.verifier).check ==
              CosignatureCheck::bad_signature);
    }
    SECTION("a changed time") {
        const auto changed = cosign(k_text, witness, 1'700'000'001);
        // Same key ID and signature length; splice the old signature after the new time.
        std::string raw;
        std::string raw_old;
        REQUIRE(crypto::base64_decode(
            changed.substr(changed.find(' ', 4) + 1, changed.size() - changed.find(' ', 4) - 2),
            raw));
        REQUIRE(crypto::base64_decode(
            line.substr(line.find(' ', 4) + 1, line.size() - line.find(' ', 4) - 2), raw_old));
        const std::string forged = raw.substr(0, 12) + raw_old.substr(12);
        const std::string note =
            signed_note(log_key) + note_signature_line("witness.example/w1", forged);
        CHECK(check_cosignature(parse(note), witness.verifier).check ==
              CosignatureCheck::bad_signature);
    }
    SECTION("the Ed25519 note signature type is not a cosignature") {
        // A key of type 0x01 under the witness's name has another key ID: no line matches.
        const auto as_note_key = note_verifier_key("witness.example/w1", witness.key);
        CHECK(as_note_key.id != witness.verifier.id);
    }
}

TEST_CASE("the cosigned message is cosignature/v1, the time line, then the text", "[witness]") {
    CHECK(cosignature_message(k_text, 1679315147) == "cosignature/v1\ntime 1679315147\n" + k_text);
}

TEST_CASE("witness keys round-trip through their file and verifier forms", "[witness]") {
    const auto key = generate_witness_key("witness.example/w1");
    const std::string text = witness_key_file_text(key);
    CHECK(text.rfind("PRIVATE+KEY+witness.example/w1+", 0) == 0);
    std::string error;
    auto back = parse_witness_key(text, error);
    INFO(error);
    REQUIRE(back);
    CHECK(back->verifier.id == key.verifier.id);
    CHECK(back->key.public_raw() == key.key.public_raw());

    const std::string vkey = format_verifier_key(key.verifier);
    auto parsed = parse_verifier_key(vkey, error, k_note_cosignature_v1);
    REQUIRE(parsed);
    CHECK(parsed->id == key.verifier.id);
    // A witness key is not a checkpoint key, and the other way round.
    CHECK_FALSE(parse_verifier_key(vkey, error));
    CHECK(error.find("not an Ed25519 key") != std::string::npos);

    CHECK_FALSE(
        parse_witness_key("PRIVATE+KEY+w+00000000+" + text.substr(text.rfind('+') + 1), error));
    CHECK_THROWS_AS(generate_witness_key("has space"), std::invalid_argument);
}

TEST_CASE("a witness key file must be owner-only", "[witness]") {
    test::TempDir dir;
    const auto key = generate_witness_key("witness.example/w1");
    const auto path = dir / "w.key";
    create_private_file(path, witness_key_file_text(key));
    CHECK(load_witness_key(path).verifier.id == key.verifier.id);
    ::chmod(path.c_str(), 0644);
    CHECK_THROWS_AS(load_witness_key(path), ConfigError);
}

TEST_CASE("the cosignature test vector of docs/audit-format.md", "[witness]") {
    auto key = crypto::Ed25519Key::from_private_raw(std::string(32, '\x07'));
    WitnessKey w{"witness.example/w1", std::move(key), {}};
    w.verifier = note_verifier_key(w.name, w.key, k_note_cosignature_v1);
    const std::string text = "lethe/example\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
                             "chain-head " +
                             std::string(64, '0') + "\n";
    CHECK(format_verifier_key(w.verifier) ==
          "witness.example/w1+aa4a09d1+BOpKbGPinFIKvvVQexMuxfmVR3auvr57kkIe6mkURtIs");
    CHECK(cosign(text, w, 1700000000) ==
          "\xE2\x80\x94 witness.example/w1 qkoJ0QAAAABlU/EA2H/smwXz/VFfk8YgoI8OcwZPJ7o09qH28vDggzIJ"
          "Uz9PZxPN98uDujbkIFF7PSNOCOt3RdHIx64cbDLoWAqyAQ==\n");
}
