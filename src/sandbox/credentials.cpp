#include "sandbox/credentials.hpp"

#include "crypto/crypto.hpp"
#include "util/strings.hpp"

namespace lethe::sandbox {

CredentialStore::CredentialStore(Credential initial) {
    m_accepted.push_back(std::move(initial));
}

void CredentialStore::replace(std::vector<Credential> accepted) {
    std::lock_guard lock(m_mutex);
    m_accepted = std::move(accepted);
}

std::size_t CredentialStore::size() const {
    std::lock_guard lock(m_mutex);
    return m_accepted.size();
}

AuthCheck CredentialStore::check(const std::string* authorization) const {
    AuthCheck result;
    result.present = authorization != nullptr;
    std::string user;
    std::string password;
    if (!result.present || !parse_basic_auth(*authorization, user, password)) {
        return result;
    }
    std::lock_guard lock(m_mutex);
    for (const auto& c : m_accepted) {
        // Both halves are compared every time so the timing says nothing about which one failed.
        bool site_ok = crypto::constant_time_equal(user, c.site_id);
        bool key_ok = crypto::constant_time_equal(password, c.api_key);
        result.valid = result.valid || (site_ok && key_ok);
    }
    return result;
}

BearerKeys::BearerKeys(const std::string& initial) {
    if (!initial.empty()) {
        m_accepted.push_back(initial);
    }
}

void BearerKeys::replace(std::vector<std::string> accepted) {
    std::lock_guard lock(m_mutex);
    m_accepted = std::move(accepted);
}

std::size_t BearerKeys::size() const {
    std::lock_guard lock(m_mutex);
    return m_accepted.size();
}

AuthCheck BearerKeys::check(const std::string* authorization) const {
    AuthCheck result;
    result.present = authorization != nullptr;
    if (!result.present) {
        return result;
    }
    std::string_view header = trim(*authorization);
    if (header.size() < 7 || to_lower(header.substr(0, 7)) != "bearer ") {
        return result;
    }
    std::string_view token = trim(header.substr(7));
    std::lock_guard lock(m_mutex);
    for (const auto& key : m_accepted) {
        result.valid = crypto::constant_time_equal(token, key) || result.valid;
    }
    return result;
}

bool parse_basic_auth(std::string_view header, std::string& user, std::string& password) {
    header = trim(header);
    if (header.size() < 6 || to_lower(header.substr(0, 6)) != "basic ") {
        return false;
    }
    std::string decoded;
    if (!crypto::base64_decode(trim(header.substr(6)), decoded)) {
        return false;
    }
    auto colon = decoded.find(':');
    if (colon == std::string::npos) {
        return false;
    }
    user = decoded.substr(0, colon);
    password = decoded.substr(colon + 1);
    return true;
}

} // namespace lethe::sandbox
