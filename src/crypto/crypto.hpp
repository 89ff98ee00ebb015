#pragma once

#include <memory>
#include <openssl/evp.h>
#include <string>
#include <string_view>

namespace lethe::crypto {

// Owners for OpenSSL handles; business code never calls *_free itself.
struct EvpMdCtxDeleter {
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct EvpPkeyDeleter {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct EvpMacCtxDeleter {
    void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using EvpMacCtxPtr = std::unique_ptr<EVP_MAC_CTX, EvpMacCtxDeleter>;

constexpr std::size_t k_sha256_size = 32;

// SHA-256 of `data` (32 raw bytes). Throws std::runtime_error if OpenSSL fails.
std::string sha256(std::string_view data);

// Incremental SHA-256; reusable after finish().
class Sha256 {
public:
    Sha256();
    // Adds bytes to the digest.
    void update(std::string_view data);
    // Returns the 32-byte digest and resets for the next message.
    std::string finish();

private:
    EvpMdCtxPtr m_ctx;
};

// HMAC-SHA256 with a fixed key; the keyed state is built once and copied per message,
// which is what makes digesting a million identifiers cheap.
class HmacSha256 {
public:
    explicit HmacSha256(std::string_view key);
    // 32-byte MAC of `data`.
    std::string mac(std::string_view data) const;

private:
    EvpMacCtxPtr m_keyed;
};

// One-shot HMAC-SHA256 (32 raw bytes).
std::string hmac_sha256(std::string_view key, std::string_view data);

// Compares in time that depends only on the lengths, never on where the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b);

// `n` bytes from the OpenSSL CSPRNG; throws std::runtime_error on failure.
std::string random_bytes(std::size_t n);

// Ed25519 key pair.
class Ed25519Key {
public:
    // Generates a new private key.
    static Ed25519Key generate();
    // Loads a PKCS#8 PEM private key; throws std::runtime_error when it is not an Ed25519 key.
    static Ed25519Key from_private_pem(std::string_view pem);
    // Loads a raw 32-byte public key (for verification only).
    static Ed25519Key from_public_raw(std::string_view raw32);
    // Loads a raw 32-byte private key (RFC 8032 seed); throws std::runtime_error when malformed.
    static Ed25519Key from_private_raw(std::string_view seed32);

    // PKCS#8 PEM of the private key.
    std::string private_pem() const;
    // Raw 32-byte public key.
    std::string public_raw() const;
    // Raw 32-byte private key (the seed); throws when this is a public-only key.
    std::string private_raw() const;
    // 64-byte signature of `message`; throws when this is a public-only key.
    std::string sign(std::string_view message) const;
    // True when `signature` is a valid signature of `message`.
    bool verify(std::string_view message, std::string_view signature) const;

private:
    explicit Ed25519Key(EvpPkeyPtr key) : m_key(std::move(key)) {}
    EvpPkeyPtr m_key;
};

constexpr std::size_t k_aes256_key_size = 32;
constexpr std::size_t k_gcm_nonce_size = 12;
constexpr std::size_t k_gcm_tag_size = 16;

// AES-256-GCM: the ciphertext of `plain` followed by its 16-byte tag, authenticating `aad` too.
// `key` is 32 bytes, `nonce` 12 and never used twice with one key for different inputs.
std::string aes256gcm_seal(std::string_view key, std::string_view nonce, std::string_view plain,
                           std::string_view aad);
// The plaintext of `sealed` (ciphertext || tag), or false when the tag does not match: a wrong
// key, another `aad`, or a changed byte.
bool aes256gcm_open(std::string_view key, std::string_view nonce, std::string_view sealed,
                    std::string_view aad, std::string& plain);

// Standard Base64 with padding.
std::string base64_encode(std::string_view bytes);
// Decodes standard Base64 with padding; nullopt-like empty+false on bad input.
bool base64_decode(std::string_view text, std::string& out);

} // namespace lethe::crypto
