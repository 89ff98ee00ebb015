#include "sandbox/access_log.hpp"

#include "crypto/crypto.hpp"
#include "util/clock.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <cstdio>

namespace lethe::sandbox {

std::string short_hash(std::string_view identifier) {
    return to_hex(crypto::sha256(identifier)).substr(0, 8);
}

void AccessLog::api(const CallRecord& r) {
    if (!m_enabled) {
        return;
    }
    std::string line = format_iso8601_ms(r.time_ms) + " " + r.method + " " + call_name(r.call);
    line += r.identifier ? " id:" + short_hash(*r.identifier) : " id:-";
    line += " " + std::to_string(r.status) + " " + std::to_string(r.latency_ms) + "ms";
    if (!r.applied && r.status >= 200 && r.status < 300) {
        line += " ignored"; // e.g. an identify of a suppressed identifier
    }
    if (!r.fault.empty()) {
        line += " fault=" + r.fault;
    }
    if (!r.auth_valid) {
        line += r.auth_present ? " auth=invalid" : " auth=missing";
    }
    write(line);
}

void AccessLog::admin(std::string_view method, std::string_view path, int status) {
    if (m_enabled) {
        write(format_iso8601_ms(SystemClock().now_ms()) + " " + std::string(method) + " " +
              std::string(path) + " " + std::to_string(status));
    }
}

void AccessLog::note(std::string_view message) {
    write(std::string(message));
}

void AccessLog::write(const std::string& line) {
    std::lock_guard lock(m_mutex);
    std::fprintf(stderr, "lethe-sandbox: %s\n", line.c_str());
    std::fflush(stderr);
}

} // namespace lethe::sandbox
