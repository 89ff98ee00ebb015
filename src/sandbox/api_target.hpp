#pragma once

#include "sandbox/call_log.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace lethe::sandbox {

// Customer.io refuses identifiers longer than this many bytes.
inline constexpr std::size_t k_max_identifier_bytes = 150;

// The call an API request names, read from the raw (still percent-encoded) request target.
struct ApiTarget {
    CallKind call = CallKind::unknown;     // unknown: no such route (404)
    std::optional<std::string> identifier; // decoded; set for customer calls with a valid id
    std::string error;                     // why the identifier is unusable (400), else empty
};

// Percent-decodes `text` ('+' stays '+'); nullopt on a '%' not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text);

// Maps METHOD and raw target (query ignored) to a call. The identifier is one path segment, so a
// client that forgets to encode '/' gets a 404, as it would from Customer.io.
ApiTarget parse_api_target(std::string_view method, std::string_view raw_target);

} // namespace lethe::sandbox
