#include "audit/keys.hpp"

#include "config/secrets.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"

#include <stdexcept>

namespace lethe::audit {
namespace {

constexpr std::size_t k_subject_key_bytes = 32;
constexpr std::size_t k_min_subject_key_bytes = 16;
constexpr std::size_t k_identifier_key_bytes = 32;

bool prepare_new_file(const std::filesystem::path& path) {
    if (std::filesystem::exists(path)) {
        return false;
    }
    if (path.has_parent_path()) {
        std::filesystem::create_directories(path.parent_path());
    }
    return true;
}

} // namespace

bool create_subject_key(const std::filesystem::path& path) {
    if (!prepare_new_file(path)) {
        return false;
    }
    create_private_file(path, to_hex(crypto::random_bytes(k_subject_key_bytes)) + "\n");
    return true;
}

bool create_identifier_key(const std::filesystem::path& path) {
    if (!prepare_new_file(path)) {
        return false;
    }
    create_private_file(path, to_hex(crypto::random_bytes(k_identifier_key_bytes)) + "\n");
    return true;
}

std::filesystem::path identifier_key_path(const std::filesystem::path& configured) {
    return config::secret_file_path(config::k_identifier_key_credential, configured);
}

std::vector<std::string> load_identifier_keys(const std::filesystem::path& configured) {
    const auto path = identifier_key_path(configured);
    const std::string text = config::read_private_file(path);
    std::vector<std::string> keys;
    std::size_t line_no = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = std::min(text.find('\n', start), text.size());
        ++line_no;
        const std::string_view line = trim(std::string_view(text).substr(start, end - start));
        start = end + 1;
        if (line.empty()) {
            continue;
        }
        auto key = from_hex(line);
        if (!key || key->size() != k_identifier_key_bytes) {
            throw ConfigError(path.string() + ":" + std::to_string(line_no) +
                              ": not an identifier key (expected " +
                              std::to_string(k_identifier_key_bytes * 2) + " hex characters)");
        }
        keys.push_back(std::move(*key));
    }
    if (keys.empty()) {
        throw ConfigError(path.string() + ": no identifier key in the file");
    }
    return keys;
}

bool create_checkpoint_key(const std::filesystem::path& path) {
    if (!prepare_new_file(path)) {
        return false;
    }
    create_private_file(path, crypto::Ed25519Key::generate().private_pem());
    return true;
}

std::filesystem::path subject_key_path(const std::filesystem::path& configured) {
    return config::secret_file_path(config::k_subject_key_credential, configured);
}

std::filesystem::path checkpoint_key_path(const std::filesystem::path& configured) {
    return config::secret_file_path(config::k_checkpoint_key_credential, configured);
}

std::string load_subject_key(const std::filesystem::path& configured) {
    // Like every secret: owner-only (a readable subject key lets anyone test guesses of e-mail
    // addresses against the digests in the audit log), and a systemd credential wins.
    const auto path = subject_key_path(configured);
    std::string text(trim(config::read_private_file(path)));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    auto key = from_hex(text);
    if (!key || key->size() < k_min_subject_key_bytes) {
        throw ConfigError(path.string() + ": not a subject key (expected at least " +
                          std::to_string(k_min_subject_key_bytes * 2) + " hex characters)");
    }
    return *key;
}

crypto::Ed25519Key load_checkpoint_key(const std::filesystem::path& configured) {
    return load_checkpoint_key_file(checkpoint_key_path(configured));
}

crypto::Ed25519Key load_checkpoint_key_file(const std::filesystem::path& path) {
    try {
        return crypto::Ed25519Key::from_private_pem(config::read_private_file(path));
    } catch (const std::runtime_error& e) {
        if (dynamic_cast<const Error*>(&e) != nullptr) {
            throw;
        }
        throw ConfigError(path.string() + ": " + e.what());
    }
}

std::string canonical_subject(std::string_view identifier, intake::IdType type) {
    std::string out(identifier);
    if (type == intake::IdType::email) {
        // ASCII only: Customer.io documents case-insensitive e-mail matching but not Unicode case
        // folding, and a locale-dependent tolower() would make the digest depend on the machine.
        for (char& c : out) {
            if (c >= 'A' && c <= 'Z') {
                c = static_cast<char>(c - 'A' + 'a');
            }
        }
    }
    return out;
}

SubjectDigester::SubjectDigester(std::string_view key) : m_mac(key) {
}

std::string SubjectDigester::digest(std::string_view identifier, intake::IdType type) const {
    return digest_as_given(canonical_subject(identifier, type));
}

std::string SubjectDigester::digest_as_given(std::string_view identifier) const {
    return to_hex(m_mac.mac(identifier));
}

std::string SubjectDigester::derived_request_id(std::string_view identifier, intake::IdType type,
                                                std::string_view received_at_text) const {
    return derived_request_id_as_given(canonical_subject(identifier, type), received_at_text);
}

std::string SubjectDigester::derived_request_id_as_given(std::string_view identifier,
                                                         std::string_view received_at_text) const {
    std::string msg = "lethe.request-id.v1";
    msg.push_back('\0');
    msg.append(identifier);
    msg.push_back('\0');
    msg.append(received_at_text);
    return "auto-" + to_hex(m_mac.mac(msg)).substr(0, 24);
}

} // namespace lethe::audit
