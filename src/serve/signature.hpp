#pragma once

#include "util/clock.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The intake's request signature (docs/intake.md): the scheme of Customer.io's webhooks with
// lethe's header names.
namespace lethe::serve {

// Header carrying the Unix time (seconds) at which the sender signed the request.
inline constexpr const char* k_timestamp_header = "X-Lethe-Timestamp";
// Header carrying the lower-case hex HMAC-SHA256 of signed_message().
inline constexpr const char* k_signature_header = "X-Lethe-Signature";
// A timestamp further than this from the receiver's clock is refused (replay window).
inline constexpr std::int64_t k_replay_window_seconds = 300;

// The bytes that are signed: "v0:" + timestamp + ":" + body.
std::string signed_message(std::string_view timestamp, std::string_view body);

// Lower-case hex HMAC-SHA256 of signed_message(timestamp, body) under `secret`.
std::string sign_request(std::string_view secret, std::string_view timestamp,
                         std::string_view body);

// What a request presented; nullopt for a missing header.
struct PresentedSignature {
    std::optional<std::string_view> timestamp;
    std::optional<std::string_view> signature;
};

// The signed "body" of a request without one (a status query): method, a space and the path as
// sent, e.g. "GET /v1/erasure-requests/DSR-42". No JSON body starts so, so a query's signature
// is never a POST's.
std::string query_signed_body(std::string_view method, std::string_view path);

// The MAC a request presented (raw bytes), or why its headers are refused: exactly one is set.
struct PresentedMac {
    std::string mac;
    std::string reason; // names the header at fault, never echoes a header value
};

// Checks the headers: both present, the timestamp Unix seconds within k_replay_window_seconds of
// `now`, the signature 64 hex digits.
PresentedMac presented_mac(const PresentedSignature& presented, TimeMs now);

// True when `mac` is HMAC-SHA256(secret, message), compared in constant time.
bool mac_matches(std::string_view secret, std::string_view message, std::string_view mac);

// Checks a request against every accepted secret (the current one, and the next during a
// rotation), comparing MACs in constant time. Returns nullopt when one secret matches and the
// timestamp lies within k_replay_window_seconds of `now`; otherwise the reason, which names the
// header at fault but never echoes a header value.
std::optional<std::string> check_signature(const std::vector<std::string>& secrets,
                                           const PresentedSignature& presented,
                                           std::string_view body, TimeMs now);

} // namespace lethe::serve
