#pragma once

#include "net/http.hpp"
#include "util/clock.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lethe::cio {

// How a call ended, as the worker must act on it.
enum class Outcome {
    success,   // 2xx (and 404 on destroy): move on
    retryable, // network error, timeout, 408, 429, 5xx: try again later
    permanent, // other 4xx: this request cannot succeed as it is
    auth,      // 401/403: the credentials are wrong; stop the worker, do not charge the request
    halt,      // an environment problem that is not the request's fault (e.g. a redirect to a
               // foreign host refused): stop the worker without charging the request
};

// What an API error body said, in lethe's fixed vocabulary: the only part of a remote error
// text that lethe keeps (issue 16: an allowlist, not a denylist). The body itself may echo the
// identifier in any encoding, so it never reaches a log, `last_error` or the audit log.
enum class ApiReason {
    none,              // no error body, or one lethe does not recognise
    not_an_identifier, // the identifier type is not an identifier of this workspace
    invalid_value,     // the identifier (or another value) was refused as malformed
    too_large,         // the request or a value was too large
    not_found,         // the person or resource does not exist
};
std::string_view to_text(ApiReason r);
// The reason an error body of `status` gives ({"meta":{"error":...}}, {"meta":{"errors":[...]}}
// or {"errors":[{"reason", "message"}]}), matched against known phrases; none when it says
// nothing lethe recognises.
ApiReason classify_api_error(long status, const std::string& body);

// The result of one Track API call (redirect hops included).
struct CallResult {
    Outcome outcome = Outcome::retryable;
    long http_status = 0;                 // 0: no HTTP response (or none was sent)
    std::optional<TimeMs> retry_after_ms; // delay asked for by Retry-After (retryable only)
    // Short reason for audit and logs, in lethe's own words ("HTTP 503", "HTTP 400: not an
    // identifier of this workspace", "timeout", "connection failed"); empty on success. Never
    // remote text, the identifier, the key, the URL path or an Authorization header.
    std::string error;
    ApiReason reason = ApiReason::none; // what the error body said, when lethe recognised it
    TimeMs latency_ms = 0;              // time spent waiting for the API, all hops together
    bool already_gone = false;          // destroy answered 404: the person no longer exists
};

// A typed identifier of a person, as Track API v2 and the App API take it.
struct Target {
    std::string id_type; // "id" | "email" | "cio_id"
    std::string value;
};

// The result of one Track API v2 batch call: the call itself, and the positions of the
// operations Customer.io refused when it answered 207 (the others were applied). An unreadable
// 207 is a retryable call: suppress and delete may safely be sent again.
struct BatchResult {
    CallResult call;
    std::vector<std::size_t> refused;
};

// Most operations lethe puts in one batch: far below the 500 KB limit at 150-byte identifiers.
inline constexpr std::size_t k_max_batch_operations = 100;

// Track API credentials (HTTP Basic `site_id:api_key`).
struct Credentials {
    std::string site_id;
    std::string api_key;
};

// The answer of GET /api/v1/accounts/region; the fields are filled only on success.
struct RegionInfo {
    CallResult call;
    std::string url;
    std::string region;
    long long environment_id = 0;
    // scheme://host[:port] of the URL that gave the final answer (after redirects, if any);
    // set whenever an HTTP answer arrived, so a redirect to another host cannot pass unseen.
    std::string answered_by;
};

// Where the Track API lives: "https://track.customer.io" or "https://track-eu.customer.io" (an
// optional path prefix is kept, a trailing '/' is ignored).
struct Endpoint {
    std::string track_url;
    bool allow_insecure_loopback = false; // permits http:// to 127.0.0.1 or [::1] (sandbox)
};

// Checks the endpoint policy: https:// with a host, no user info, query or fragment; http://
// only for the literal loopback addresses 127.0.0.1 and [::1] ("localhost" is refused: it can
// resolve elsewhere) and only with allow_insecure_loopback. Throws lethe::ConfigError whose
// message starts with `key` (the config key that set the URL).
void validate_endpoint(const Endpoint& endpoint, std::string_view key = "customerio.track_url");

// Percent-encodes every byte outside A-Z a-z 0-9 - . _ ~ as %XX (upper-case hex).
std::string percent_encode(std::string_view identifier);

// Parses a Retry-After value: delta-seconds or an HTTP-date (IMF-fixdate, RFC 850 or asctime).
// Returns the delay from `now_ms` in milliseconds (0 for a date in the past, at most one day);
// nullopt when the value is neither.
std::optional<TimeMs> parse_retry_after(std::string_view value, TimeMs now_ms);

// Classifies a final HTTP status: 2xx success; 401/403 auth; 408, 429 and 5xx retryable; other
// 4xx permanent; 3xx halt (a redirect that could not be followed); anything else retryable.
Outcome classify_status(long status);

// True when `host` (no port, no brackets) is customer.io or a subdomain of it, compared
// case-insensitively; false for anything else, including IP literals and a trailing dot.
bool is_customerio_host(std::string_view host);

// The Customer.io Track API calls lethe makes. Redirects are followed (at most 3 hops, method
// and body kept) only to https:// hosts under customer.io; any other redirect target is never
// contacted and the call ends with Outcome::halt. Not thread-safe (like its HttpClient).
class TrackClient {
public:
    // Keeps references to `http` and `clock`. Throws lethe::ConfigError when the endpoint
    // breaks the policy of validate_endpoint.
    TrackClient(net::HttpClient& http, Endpoint endpoint, Credentials credentials,
                const Clock& clock);

    // Uses new credentials from the next call on (key rotation).
    void set_credentials(Credentials credentials);

    // POST /api/v1/customers/{id}/suppress with body "{}". An empty identifier, "." or ".."
    // (which no URL path can carry) is a permanent failure and nothing is sent.
    CallResult suppress(std::string_view identifier);

    // DELETE /api/v1/customers/{id}; a 404 is success with already_gone. Same refusals as
    // suppress.
    CallResult destroy(std::string_view identifier);

    // POST /api/v2/entity {"type": "person", "action": ACTION, "identifiers": {TYPE: VALUE}}
    // with ACTION "suppress" or "delete": the identifier's type is explicit, so no workspace
    // setting can misread it. A 400 (e.g. e-mail is not an identifier of the workspace) is a
    // permanent failure.
    CallResult entity(std::string_view action, const Target& who);

    // POST /api/v2/batch {"batch": [{"type": "person", "action": ACTION, "identifiers": {TYPE:
    // VALUE}}, ...]} with 1 to k_max_batch_operations targets: one call for what would be
    // several entity calls. A 207 lists the refused operations. The error text is lethe's own
    // ("HTTP 503"), never Customer.io's, which may echo any of the identifiers.
    BatchResult batch(std::string_view action, const std::vector<Target>& who);

    // GET /api/v1/accounts/region: checks the credentials and reports the workspace's region.
    // A 2xx whose body is not the expected JSON is a permanent failure.
    RegionInfo region();

private:
    struct Exchange {
        CallResult call;
        net::HttpResponse response;
        std::string final_url; // the URL of the last request sent
    };
    Exchange send(const char* method, const std::string& path, std::string body);
    CallResult customer_call(const char* method, std::string_view identifier, const char* suffix,
                             std::string body);

    net::HttpClient& m_http;
    Endpoint m_endpoint;
    std::string m_base; // track_url without a trailing '/'
    Credentials m_credentials;
    const Clock& m_clock;
};

} // namespace lethe::cio
