#pragma once

#include "crypto/crypto.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 signatures: the envelope of
// lethe's checkpoints (docs/audit-format.md, "Checkpoints").
namespace lethe::audit {

// The signature type byte for Ed25519 in signed notes.
inline constexpr unsigned char k_note_ed25519 = 0x01;
// The type byte of Ed25519 witness cosignatures (C2SP tlog-cosignature, cosignature/v1).
inline constexpr unsigned char k_note_cosignature_v1 = 0x04;

// A key that can verify notes: its name, its 4-byte key ID and the raw Ed25519 public key; its
// type says what it signs (a note's text, or a cosignature/v1 message).
struct NoteVerifierKey {
    std::string name;
    std::uint32_t id = 0;
    std::string public_raw; // 32 bytes
    unsigned char type = k_note_ed25519;
};

// The key ID: the first 4 bytes (big-endian) of SHA-256(name || 0x0A || type || public key).
std::uint32_t note_key_id(std::string_view name, std::string_view public_raw,
                          unsigned char type = k_note_ed25519);

// True when `name` can name a note key: non-empty, valid UTF-8, no spaces, no '+', no controls.
bool valid_note_key_name(std::string_view name);

// The verifier key of a signing key under `name`.
NoteVerifierKey note_verifier_key(std::string_view name, const crypto::Ed25519Key& key,
                                  unsigned char type = k_note_ed25519);

// The text form "<name>+<8 hex digits of the key ID>+<base64(type || public key)>".
std::string format_verifier_key(const NoteVerifierKey& key);

// Parses the text form. Returns nullopt (and the reason in `error`) when malformed, when the
// type is not `type` or when the key ID does not match the name and key.
std::optional<NoteVerifierKey> parse_verifier_key(std::string_view text, std::string& error,
                                                  unsigned char type = k_note_ed25519);

// The 4 bytes of a key ID, big-endian, and back (`bytes` holds at least 4).
std::string key_id_bytes(std::uint32_t id);
std::uint32_t key_id_from_bytes(std::string_view bytes);
// The signature line "— <name> <base64(raw)>\n" (`raw`: key ID and signature).
std::string note_signature_line(std::string_view name, std::string_view raw);

// Signs `text` (which must end in a newline) and returns the whole note: the text, a blank line
// and one signature line "— <name> <base64(key ID || signature)>". Throws std::runtime_error when
// the text or name is not acceptable or signing fails.
std::string sign_note(std::string_view text, std::string_view name, const crypto::Ed25519Key& key);

// One signature line of a note.
struct NoteSignature {
    std::string name;
    std::uint32_t id = 0;
    std::string signature; // the bytes after the key ID
};

// A note split into its text and its signature lines (nothing verified yet).
struct ParsedNote {
    std::string text; // includes its final newline
    std::vector<NoteSignature> signatures;
};

// Splits a signed note. Returns nullopt (reason in `error`) when it is not well-formed.
std::optional<ParsedNote> parse_note(std::string_view note, std::string& error);

// The result of checking a note against one trusted key.
enum class NoteCheck {
    ok,            // a signature by the key verifies
    no_signature,  // no signature line carries the key's name and ID
    bad_signature, // a signature line names the key but does not verify
};

// Checks the note's signatures against `key` (signatures by other keys are ignored, as the
// signed-note specification requires).
NoteCheck check_note(const ParsedNote& note, const NoteVerifierKey& key);

// The keys a verifier trusts for one log: the current checkpoint key and, across a key
// rotation, the earlier ones (docs/audit-format.md, "Rotating the checkpoint key"). All share
// one name, the log's origin. One key converts implicitly: that is the common case.
class TrustedKeys {
public:
    TrustedKeys(NoteVerifierKey key); // NOLINT(google-explicit-constructor)
    // Adds a key (a duplicate is ignored). Throws std::invalid_argument when its name differs.
    void add(NoteVerifierKey key);
    // The name every key has: the log's origin.
    const std::string& name() const { return m_keys.front().name; }
    const std::vector<NoteVerifierKey>& keys() const { return m_keys; }
    // True when `key` (in its text form) is one of these.
    bool contains(std::string_view key_text) const;

private:
    std::vector<NoteVerifierKey> m_keys;
};

// Checks the note against every trusted key: bad_signature when a line naming one of them does
// not verify, else ok when one verifies, else no_signature.
NoteCheck check_note(const ParsedNote& note, const TrustedKeys& keys);

// `note` with one more signature line, by `key` under `name`, over the same text (the handover
// of a key rotation is signed by both keys). Throws std::runtime_error when `note` is not a
// signed note or signing fails.
std::string add_note_signature(std::string_view note, std::string_view name,
                               const crypto::Ed25519Key& key);

// A short description of a check result, for messages.
const char* describe(NoteCheck check);

} // namespace lethe::audit
