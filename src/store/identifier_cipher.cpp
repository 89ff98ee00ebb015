#include "store/identifier_cipher.hpp"

#include "crypto/crypto.hpp"
#include "util/error.hpp"

#include <stdexcept>

namespace lethe::store {
namespace {

constexpr char k_format_version = 0x01;
constexpr std::size_t k_key_id_size = 4;
constexpr std::size_t k_header_size = 1 + k_key_id_size + crypto::k_gcm_nonce_size;

std::string identifier_aad(std::string_view request_id) {
    std::string aad = "lethe.identifier.v1";
    aad.push_back('\0');
    aad.append(request_id);
    return aad;
}

std::string profile_aad(std::int64_t erasure) {
    std::string aad = "lethe.profile.v1";
    aad.push_back('\0');
    aad.append(std::to_string(erasure));
    return aad;
}

} // namespace

IdentifierCipher::IdentifierCipher(std::vector<std::string> keys) {
    if (keys.empty()) {
        throw std::invalid_argument("identifier cipher: no key");
    }
    for (auto& k : keys) {
        if (k.size() != crypto::k_aes256_key_size) {
            throw std::invalid_argument("identifier cipher: a key is not 32 bytes");
        }
        m_keys.push_back({key_id(k), std::move(k)});
    }
}

std::string IdentifierCipher::key_id(std::string_view key) {
    return crypto::sha256("lethe.identifier-key.v1" + std::string(key)).substr(0, k_key_id_size);
}

std::string IdentifierCipher::seal(std::string_view plain, std::string_view nonce,
                                   std::string_view aad) const {
    const Key& key = m_keys.front();
    std::string out;
    out.reserve(k_header_size + plain.size() + crypto::k_gcm_tag_size);
    out.push_back(k_format_version);
    out += key.id;
    out += nonce;
    out += crypto::aes256gcm_seal(key.bytes, nonce, plain, aad);
    return out;
}

bool IdentifierCipher::open(std::string_view sealed, std::string_view aad,
                            std::string& plain) const {
    if (sealed.size() < k_header_size + crypto::k_gcm_tag_size ||
        sealed.front() != k_format_version) {
        return false;
    }
    const auto id = sealed.substr(1, k_key_id_size);
    const auto nonce = sealed.substr(1 + k_key_id_size, crypto::k_gcm_nonce_size);
    for (const Key& key : m_keys) {
        if (key.id == id) {
            return crypto::aes256gcm_open(key.bytes, nonce, sealed.substr(k_header_size), aad,
                                          plain);
        }
    }
    return false;
}

std::string IdentifierCipher::seal_identifier(std::string_view identifier,
                                              std::string_view request_id) const {
    return seal(identifier, crypto::random_bytes(crypto::k_gcm_nonce_size),
                identifier_aad(request_id));
}

std::string IdentifierCipher::seal_profile(std::string_view cio_id, std::int64_t erasure) const {
    const std::string aad = profile_aad(erasure);
    // A synthetic nonce: a MAC of everything sealed, so equal inputs (only) share it.
    std::string input = aad;
    input.push_back('\0');
    input.append(cio_id);
    const std::string nonce =
        crypto::hmac_sha256(m_keys.front().bytes, "lethe.profile-nonce.v1" + input)
            .substr(0, crypto::k_gcm_nonce_size);
    return seal(cio_id, nonce, aad);
}

std::string IdentifierCipher::open_identifier(std::string_view sealed,
                                              std::string_view request_id) const {
    std::string plain;
    if (!open(sealed, identifier_aad(request_id), plain)) {
        throw DatabaseError("request " + std::string(request_id) +
                            ": its identifier cannot be opened with the identifier key (another "
                            "key, or the database was edited)");
    }
    return plain;
}

std::string IdentifierCipher::open_profile(std::string_view sealed, std::int64_t erasure) const {
    std::string plain;
    if (!open(sealed, profile_aad(erasure), plain)) {
        throw DatabaseError("erasure " + std::to_string(erasure) +
                            ": a profile cannot be opened with the identifier key (another key, "
                            "or the database was edited)");
    }
    return plain;
}

} // namespace lethe::store
