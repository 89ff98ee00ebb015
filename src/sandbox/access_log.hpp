#pragma once

#include "sandbox/call_log.hpp"

#include <mutex>
#include <string>
#include <string_view>

namespace lethe::sandbox {

// The --log output: one line per request on stderr. Never the Authorization header; identifiers
// only as a short hash (they are fake, but the habit is the point).
class AccessLog {
public:
    // Writes nothing unless `enabled`.
    explicit AccessLog(bool enabled) : m_enabled(enabled) {}
    // Logs an API call once it is answered (or dropped).
    void api(const CallRecord& record);
    // Logs an admin request.
    void admin(std::string_view method, std::string_view path, int status);
    // Logs a message that is not about one request (start, reload, stop); always written.
    void note(std::string_view message);

private:
    void write(const std::string& line);
    bool m_enabled;
    std::mutex m_mutex;
};

// First 8 hex digits of SHA-256(identifier): enough to follow one subject through a log.
std::string short_hash(std::string_view identifier);

} // namespace lethe::sandbox
