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
    Api api = Api::track_v1;
    CallKind call = CallKind::unknown;     // unknown: no such route (404)
    std::optional<std::string> identifier; // decoded path id, or the App API's ?email= value
    std::optional<std::string> id_type;    // the App API's ?id_type= value, decoded
    std::string error;                     // why the identifier is unusable (400), else empty
};

// Percent-decodes `text`; with `plus_is_space` a '+' becomes ' ' (query strings, as the real
// App API reads them). nullopt on a '%' not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

// The decoded value of query parameter `name` in the raw `query` (after '?'); nullopt when it
// is absent or badly encoded.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

// Maps METHOD and raw target to a call: the Track API under /api/v1 and /api/v2, the App API
// under /v1. A path identifier is one segment, so a client that forgets to encode '/' gets a
// 404, as it would from Customer.io.
ApiTarget parse_api_target(std::string_view method, std::string_view raw_target);

} // namespace lethe::sandbox
