#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace lethe::sandbox {

// One accepted site id / API key pair.
struct Credential {
    std::string site_id;
    std::string api_key;
};

// What an Authorization header turned out to be.
struct AuthCheck {
    bool present = false; // an Authorization header was sent
    bool valid = false;   // it was Basic auth with an accepted site_id:api_key
};

// The credentials the sandbox accepts; several at once during a key rotation.
class CredentialStore {
public:
    // Starts with exactly `initial` accepted.
    explicit CredentialStore(Credential initial);
    // Replaces every accepted credential with `accepted` (first one is the primary).
    void replace(std::vector<Credential> accepted);
    // Checks an Authorization header value (nullptr when absent), comparing in constant time.
    AuthCheck check(const std::string* authorization) const;
    // How many credentials are accepted now.
    std::size_t size() const;

private:
    mutable std::mutex m_mutex;
    std::vector<Credential> m_accepted;
};

// The App API keys a workspace accepts (Bearer tokens); several at once during a rotation, none
// when the workspace has no App API key.
class BearerKeys {
public:
    // Starts with `initial` accepted (nothing when it is empty).
    explicit BearerKeys(const std::string& initial);
    // Replaces every accepted key.
    void replace(std::vector<std::string> accepted);
    // Checks an Authorization header value (nullptr when absent), comparing in constant time.
    AuthCheck check(const std::string* authorization) const;
    // How many keys are accepted now.
    std::size_t size() const;

private:
    mutable std::mutex m_mutex;
    std::vector<std::string> m_accepted;
};

// Decodes "Basic BASE64(user:password)" into user and password; false when it is not that.
bool parse_basic_auth(std::string_view header, std::string& user, std::string& password);

} // namespace lethe::sandbox
