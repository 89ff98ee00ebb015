#pragma once

#include "crypto/crypto.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace lethe::audit {

// Creates a new random 32-byte subject key at `path` (hex text, mode 0600). Returns false without
// touching anything when the file already exists.
bool create_subject_key(const std::filesystem::path& path);

// Creates a new Ed25519 checkpoint key at `path` (PKCS#8 PEM, mode 0600). Returns false when the
// file already exists.
bool create_checkpoint_key(const std::filesystem::path& path);

// Reads the subject key (hex, at least 16 bytes). Throws lethe::ConfigError naming the file.
std::string load_subject_key(const std::filesystem::path& path);

// Reads the checkpoint signing key. Throws lethe::ConfigError naming the file.
crypto::Ed25519Key load_checkpoint_key(const std::filesystem::path& path);

// Turns subject identifiers into digests: hex HMAC-SHA256(subject key, identifier). The audit log
// and logs name subjects only this way (docs/audit-format.md, "Subject digests").
class SubjectDigester {
public:
    explicit SubjectDigester(std::string_view key);
    // The subject digest of a raw identifier (64 hex characters).
    std::string digest(std::string_view identifier) const;
    // A request_id for a CSV row that has none, stable across re-imports of the same row.
    std::string derived_request_id(std::string_view identifier,
                                   std::string_view received_at_text) const;

private:
    crypto::HmacSha256 m_mac;
};

} // namespace lethe::audit
