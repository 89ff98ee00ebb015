#pragma once

#include "crypto/crypto.hpp"
#include "intake/validate.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace lethe::audit {

// Creates a new random 32-byte subject key at `path` (hex text, mode 0600). Returns false without
// touching anything when the file already exists.
bool create_subject_key(const std::filesystem::path& path);

// Creates a new Ed25519 checkpoint key at `path` (PKCS#8 PEM, mode 0600). Returns false when the
// file already exists.
bool create_checkpoint_key(const std::filesystem::path& path);

// Where the subject key is read from: the systemd credential `subject-key` when
// $CREDENTIALS_DIRECTORY holds it, else the configured file.
std::filesystem::path subject_key_path(const std::filesystem::path& configured);
// The same for the checkpoint key (credential `checkpoint-key`).
std::filesystem::path checkpoint_key_path(const std::filesystem::path& configured);

// Creates a new random 32-byte identifier key at `path` (one hex line, mode 0600). Returns false
// without touching anything when the file already exists.
bool create_identifier_key(const std::filesystem::path& path);
// Where the identifier key is read from: the systemd credential `identifier-key`, else the file.
std::filesystem::path identifier_key_path(const std::filesystem::path& configured);
// Reads the identifier keys (one line of 64 hex characters each: the first seals, the others
// only open, for rotation) from identifier_key_path(configured), with the checks of the subject
// key. Throws lethe::ConfigError naming the file and the line.
std::vector<std::string> load_identifier_keys(const std::filesystem::path& configured);

// Reads the subject key (hex, at least 16 bytes) from subject_key_path(configured). Throws
// lethe::ConfigError naming the file when it is unreadable, not owner-only (mode & 077), not
// owned by this user, or not a key.
std::string load_subject_key(const std::filesystem::path& configured);

// Reads the checkpoint signing key from checkpoint_key_path(configured), with the same checks.
// Throws lethe::ConfigError naming the file.
crypto::Ed25519Key load_checkpoint_key(const std::filesystem::path& configured);

// Reads a checkpoint signing key from exactly `path` (no systemd credential: the previous key of
// a rotation is never the credential of the current one), with the same checks and errors.
crypto::Ed25519Key load_checkpoint_key_file(const std::filesystem::path& path);

// The form of an identifier that is digested, following Customer.io's matching: an e-mail address
// in ASCII lower case (A-Z only; every other byte, non-ASCII letters included, as given); an id or
// a cio_id exactly as given. Never fails.
std::string canonical_subject(std::string_view identifier, intake::IdType type);

// Turns subject identifiers into digests: hex HMAC-SHA256(subject key, canonical_subject()). The
// audit log and logs name subjects only this way (docs/audit-format.md, "Subject digests").
class SubjectDigester {
public:
    explicit SubjectDigester(std::string_view key);
    // The subject digest of an identifier of type `type` (64 hex characters).
    std::string digest(std::string_view identifier, intake::IdType type) const;
    // The digest of the identifier's bytes as given, without the canonical form: what lethe
    // before subject digest v2 wrote, so that older entries can still be found.
    std::string digest_as_given(std::string_view identifier) const;
    // A request_id for a CSV row that has none, stable across re-imports of the same row (and of
    // the same e-mail address in another case).
    std::string derived_request_id(std::string_view identifier, intake::IdType type,
                                   std::string_view received_at_text) const;
    // The request_id that lethe before subject digest v2 derived (from the identifier as given).
    std::string derived_request_id_as_given(std::string_view identifier,
                                            std::string_view received_at_text) const;

private:
    crypto::HmacSha256 m_mac;
};

} // namespace lethe::audit
