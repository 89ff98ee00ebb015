#pragma once

#include "audit/note.hpp"
#include "crypto/crypto.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Witness cosignatures on checkpoints: C2SP tlog-cosignature, Ed25519 "cosignature/v1"
// (docs/audit-format.md, "Witnesses"). A cosignature is one more signature line on a checkpoint
// note: "— <witness name> base64(key ID || u64 big-endian time || Ed25519 signature)", where the
// key ID is computed with type byte 0x04 and the signature is over
// "cosignature/v1\ntime <time>\n" followed by the checkpoint's text.
namespace lethe::audit {

// A witness's signing key under its name.
struct WitnessKey {
    std::string name;
    crypto::Ed25519Key key;
    NoteVerifierKey verifier; // type k_note_cosignature_v1
};

// The witness key file text: "PRIVATE+KEY+<name>+<key ID hex>+<base64(0x04 || 32-byte seed)>\n"
// (the signed-note private key form, with the cosignature type byte).
std::string witness_key_file_text(const WitnessKey& key);
// Parses the key file text; nullopt (reason in `error`) when malformed or the key ID is wrong.
std::optional<WitnessKey> parse_witness_key(std::string_view text, std::string& error);
// A new random key under `name`. Throws std::invalid_argument when `name` cannot name a key.
WitnessKey generate_witness_key(std::string_view name);
// Reads the key file (owner-only, as every secret). Throws lethe::ConfigError naming the file.
WitnessKey load_witness_key(const std::filesystem::path& path);

// The signed message: "cosignature/v1\ntime <time>\n" || checkpoint text (with its newline).
std::string cosignature_message(std::string_view checkpoint_text, std::int64_t time);
// The cosignature line (ending in a newline) of `key` on `checkpoint_text` at `time`.
std::string cosign(std::string_view checkpoint_text, const WitnessKey& key, std::int64_t time);

// The outcome of looking for one witness's cosignature on a note.
enum class CosignatureCheck {
    ok,            // a line by the witness's name and key ID verifies
    missing,       // no line carries the witness's name and key ID
    bad_signature, // such a line exists but does not verify (or is malformed)
};

struct CosignatureResult {
    CosignatureCheck check = CosignatureCheck::missing;
    std::int64_t time = 0; // the witness's time (POSIX seconds) when ok
};

// Checks `note` for a cosignature by `witness` (a type 0x04 verifier key).
CosignatureResult check_cosignature(const ParsedNote& note, const NoteVerifierKey& witness);

// The witnesses of `witnesses` whose cosignatures on `note` verify (each counted once).
std::vector<std::string> cosigners(const ParsedNote& note,
                                   const std::vector<NoteVerifierKey>& witnesses);

// Parses a witness verifier key (type 0x04), from the text or from a file holding it. Throws
// lethe::ConfigError naming `what` when it is neither.
NoteVerifierKey witness_verifier_key(const std::string& text_or_file, std::string_view what);

} // namespace lethe::audit
