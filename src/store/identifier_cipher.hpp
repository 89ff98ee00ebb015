#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lethe::store {

// Seals identifiers at rest (invariant 10): a stolen copy of the database, its WAL or a backup
// reveals none without the identifier key, which is kept outside the database. AES-256-GCM; the
// associated data binds each sealed value to its row, so values cannot be moved between rows.
// Format (docs/operations.md): 0x01 || key id (4 bytes) || nonce (12) || ciphertext || tag (16).
class IdentifierCipher {
public:
    // `keys` are 32 raw bytes each, at least one: the first seals, every one opens (rotation).
    // Throws std::invalid_argument otherwise.
    explicit IdentifierCipher(std::vector<std::string> keys);

    // A request's identifier, bound to its request_id; a fresh random nonce each time.
    std::string seal_identifier(std::string_view identifier, std::string_view request_id) const;
    // A profile (cio_id) found for an erasure, bound to the erasure's row. Deterministic (the
    // nonce is a MAC of the input), so the same profile seals to the same bytes and the table's
    // primary key still keeps each profile once; it reveals only that two values are equal.
    std::string seal_profile(std::string_view cio_id, std::int64_t erasure) const;

    // The plaintext; throws lethe::DatabaseError when no key opens it (another key, another
    // row, a changed byte), naming the row but never any content.
    std::string open_identifier(std::string_view sealed, std::string_view request_id) const;
    std::string open_profile(std::string_view sealed, std::int64_t erasure) const;

    // The 4-byte id of the sealing key, as stored after the version byte.
    const std::string& current_key_id() const { return m_keys.front().id; }
    // The key id of a key: the first 4 bytes of SHA-256("lethe.identifier-key.v1" || key).
    static std::string key_id(std::string_view key);

private:
    struct Key {
        std::string id;
        std::string bytes;
    };
    std::string seal(std::string_view plain, std::string_view nonce, std::string_view aad) const;
    bool open(std::string_view sealed, std::string_view aad, std::string& plain) const;

    std::vector<Key> m_keys;
};

} // namespace lethe::store
