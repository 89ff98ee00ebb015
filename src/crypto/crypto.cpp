#include "crypto/crypto.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdexcept>

namespace lethe::crypto {
namespace {

[[noreturn]] void fail(const char* what) {
    unsigned long code = ERR_get_error();
    char buf[256] = "unknown error";
    if (code != 0) {
        ERR_error_string_n(code, buf, sizeof buf);
    }
    ERR_clear_error();
    throw std::runtime_error(std::string("OpenSSL: ") + what + ": " + buf);
}

struct BioDeleter {
    void operator()(BIO* p) const { BIO_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

struct EvpMacDeleter {
    void operator()(EVP_MAC* p) const { EVP_MAC_free(p); }
};

} // namespace

std::string sha256(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.finish();
}

Sha256::Sha256() : m_ctx(EVP_MD_CTX_new()) {
    if (!m_ctx || EVP_DigestInit_ex(m_ctx.get(), EVP_sha256(), nullptr) != 1) {
        fail("SHA-256 init");
    }
}

void Sha256::update(std::string_view data) {
    if (EVP_DigestUpdate(m_ctx.get(), data.data(), data.size()) != 1) {
        fail("SHA-256 update");
    }
}

std::string Sha256::finish() {
    std::string out(k_sha256_size, '\0');
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(m_ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
        EVP_DigestInit_ex(m_ctx.get(), EVP_sha256(), nullptr) != 1) {
        fail("SHA-256 final");
    }
    return out;
}

HmacSha256::HmacSha256(std::string_view key) {
    std::unique_ptr<EVP_MAC, EvpMacDeleter> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (!mac) {
        fail("HMAC fetch");
    }
    m_keyed.reset(EVP_MAC_CTX_new(mac.get()));
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (!m_keyed || EVP_MAC_init(m_keyed.get(), reinterpret_cast<const unsigned char*>(key.data()),
                                 key.size(), params) != 1) {
        fail("HMAC init");
    }
}

std::string HmacSha256::mac(std::string_view data) const {
    EvpMacCtxPtr ctx(EVP_MAC_CTX_dup(m_keyed.get()));
    std::string out(k_sha256_size, '\0');
    std::size_t len = 0;
    if (!ctx ||
        EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) != 1 ||
        EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) !=
            1) {
        fail("HMAC");
    }
    return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    return HmacSha256(key).mac(data);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
        fail("RAND_bytes");
    }
    return out;
}

namespace {

struct EvpCipherCtxDeleter {
    void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, EvpCipherCtxDeleter>;

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

EvpCipherCtxPtr gcm_context(std::string_view key, std::string_view nonce, bool encrypt) {
    if (key.size() != k_aes256_key_size || nonce.size() != k_gcm_nonce_size) {
        throw std::invalid_argument("AES-256-GCM: a 32-byte key and a 12-byte nonce are needed");
    }
    EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    if (!ctx || EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(nonce),
                                  encrypt ? 1 : 0) != 1) {
        fail("AES-256-GCM init");
    }
    return ctx;
}

void gcm_aad(EVP_CIPHER_CTX* ctx, std::string_view aad) {
    int n = 0;
    if (!aad.empty() &&
        EVP_CipherUpdate(ctx, nullptr, &n, bytes(aad), static_cast<int>(aad.size())) != 1) {
        fail("AES-256-GCM aad");
    }
}

} // namespace

std::string aes256gcm_seal(std::string_view key, std::string_view nonce, std::string_view plain,
                           std::string_view aad) {
    auto ctx = gcm_context(key, nonce, true);
    gcm_aad(ctx.get(), aad);
    std::string out(plain.size() + k_gcm_tag_size, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    int n = 0;
    int tail = 0;
    if (EVP_EncryptUpdate(ctx.get(), o, &n, bytes(plain), static_cast<int>(plain.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), o + n, &tail) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, k_gcm_tag_size, o + plain.size()) !=
            1) {
        fail("AES-256-GCM seal");
    }
    return out;
}

bool aes256gcm_open(std::string_view key, std::string_view nonce, std::string_view sealed,
                    std::string_view aad, std::string& plain) {
    if (sealed.size() < k_gcm_tag_size) {
        return false;
    }
    const std::size_t length = sealed.size() - k_gcm_tag_size;
    auto ctx = gcm_context(key, nonce, false);
    gcm_aad(ctx.get(), aad);
    std::string out(length, '\0');
    std::string tag(sealed.substr(length));
    int n = 0;
    int tail = 0;
    if (EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n,
                          bytes(sealed), static_cast<int>(length)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, k_gcm_tag_size, tag.data()) != 1) {
        fail("AES-256-GCM open");
    }
    if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n, &tail) !=
        1) {
        return false; // the tag did not match
    }
    plain = std::move(out);
    return true;
}

Ed25519Key Ed25519Key::generate() {
    EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    if (raw == nullptr) {
        fail("Ed25519 keygen");
    }
    return Ed25519Key(EvpPkeyPtr(raw));
}

Ed25519Key Ed25519Key::from_private_pem(std::string_view pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key || EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
        ERR_clear_error();
        throw std::runtime_error("not an Ed25519 private key in PEM (PKCS#8) form");
    }
    return Ed25519Key(std::move(key));
}

Ed25519Key Ed25519Key::from_public_raw(std::string_view raw32) {
    EvpPkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                               reinterpret_cast<const unsigned char*>(raw32.data()),
                                               raw32.size()));
    if (!key) {
        fail("Ed25519 public key");
    }
    return Ed25519Key(std::move(key));
}

Ed25519Key Ed25519Key::from_private_raw(std::string_view seed32) {
    EvpPkeyPtr key(EVP_PKEY_new_raw_private_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed32.data()),
        seed32.size()));
    if (!key) {
        ERR_clear_error();
        throw std::runtime_error("not a 32-byte Ed25519 private key");
    }
    return Ed25519Key(std::move(key));
}

std::string Ed25519Key::private_raw() const {
    std::string out(32, '\0');
    std::size_t len = out.size();
    if (EVP_PKEY_get_raw_private_key(m_key.get(), reinterpret_cast<unsigned char*>(out.data()),
                                     &len) != 1) {
        fail("Ed25519 private key export");
    }
    out.resize(len);
    return out;
}

std::string Ed25519Key::private_pem() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), m_key.get(), nullptr, nullptr, 0, nullptr,
                                         nullptr) != 1) {
        fail("Ed25519 PEM");
    }
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

std::string Ed25519Key::public_raw() const {
    std::string out(32, '\0');
    std::size_t len = out.size();
    if (EVP_PKEY_get_raw_public_key(m_key.get(), reinterpret_cast<unsigned char*>(out.data()),
                                    &len) != 1) {
        fail("Ed25519 public key export");
    }
    out.resize(len);
    return out;
}

std::string Ed25519Key::sign(std::string_view message) const {
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    std::string sig(64, '\0');
    std::size_t len = sig.size();
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, m_key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1) {
        fail("Ed25519 sign");
    }
    sig.resize(len);
    return sig;
}

bool Ed25519Key::verify(std::string_view message, std::string_view signature) const {
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, m_key.get()) != 1) {
        fail("Ed25519 verify init");
    }
    int rc = EVP_DigestVerify(
        ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
        reinterpret_cast<const unsigned char*>(message.data()), message.size());
    ERR_clear_error();
    return rc == 1;
}

std::string base64_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()),
                            static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

bool base64_decode(std::string_view text, std::string& out) {
    if (text.size() % 4 != 0) {
        return false;
    }
    out.assign(3 * text.size() / 4 + 1, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
    if (n < 0) {
        return false;
    }
    std::size_t len = static_cast<std::size_t>(n);
    // EVP_DecodeBlock counts padding as zero bytes; remove them.
    if (!text.empty() && text.back() == '=') {
        --len;
        if (text.size() >= 2 && text[text.size() - 2] == '=') {
            --len;
        }
    }
    out.resize(len);
    return true;
}

} // namespace lethe::crypto
