#include "serve/signature.hpp"

#include "crypto/crypto.hpp"
#include "util/strings.hpp"

namespace lethe::serve {
namespace {

// Unix seconds have 10 digits until the year 2286; 12 leave room without overflow worries.
constexpr std::size_t k_max_timestamp_digits = 12;

bool all_digits(std::string_view s) {
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return !s.empty();
}

// Why the timestamp is refused; nullopt when it is inside the window.
std::optional<std::string> timestamp_problem(std::string_view text, TimeMs now) {
    if (!all_digits(text) || text.size() > k_max_timestamp_digits) {
        return std::string(k_timestamp_header) + " must be Unix seconds (decimal digits)";
    }
    const std::int64_t sent = *parse_int64(text);
    const std::int64_t now_s = now / 1000;
    if (sent < now_s - k_replay_window_seconds) {
        return std::string(k_timestamp_header) + " is more than " +
               std::to_string(k_replay_window_seconds) + " s in the past";
    }
    if (sent > now_s + k_replay_window_seconds) {
        return std::string(k_timestamp_header) + " is more than " +
               std::to_string(k_replay_window_seconds) + " s in the future";
    }
    return std::nullopt;
}

} // namespace

std::string signed_message(std::string_view timestamp, std::string_view body) {
    std::string message;
    message.reserve(4 + timestamp.size() + body.size());
    message.append("v0:").append(timestamp).append(":").append(body);
    return message;
}

std::string sign_request(std::string_view secret, std::string_view timestamp,
                         std::string_view body) {
    return to_hex(crypto::hmac_sha256(secret, signed_message(timestamp, body)));
}

std::string query_signed_body(std::string_view method, std::string_view path) {
    std::string out;
    out.reserve(method.size() + 1 + path.size());
    out.append(method).append(" ").append(path);
    return out;
}

PresentedMac presented_mac(const PresentedSignature& presented, TimeMs now) {
    PresentedMac out;
    if (!presented.timestamp || !presented.signature) {
        out.reason = std::string("missing ") +
                     (presented.timestamp ? k_signature_header : k_timestamp_header) + " header";
        return out;
    }
    if (auto problem = timestamp_problem(*presented.timestamp, now)) {
        out.reason = *problem;
        return out;
    }
    std::optional<std::string> given;
    if (presented.signature->size() == 2 * crypto::k_sha256_size) {
        given = from_hex(*presented.signature);
    }
    if (!given) {
        out.reason = std::string(k_signature_header) + " must be 64 hex digits (HMAC-SHA256)";
        return out;
    }
    out.mac = std::move(*given);
    return out;
}

bool mac_matches(std::string_view secret, std::string_view message, std::string_view mac) {
    return crypto::constant_time_equal(crypto::hmac_sha256(secret, message), mac);
}

std::optional<std::string> check_signature(const std::vector<std::string>& secrets,
                                           const PresentedSignature& presented,
                                           std::string_view body, TimeMs now) {
    PresentedMac given = presented_mac(presented, now);
    if (given.mac.empty()) {
        return given.reason;
    }
    const std::string message = signed_message(*presented.timestamp, body);
    bool matched = false;
    for (const auto& secret : secrets) {
        // Every secret is tried, so the time taken does not tell which one matched.
        matched = mac_matches(secret, message, given.mac) || matched;
    }
    if (!matched) {
        return std::string(k_signature_header) + " does not match the body and timestamp";
    }
    return std::nullopt;
}

} // namespace lethe::serve
