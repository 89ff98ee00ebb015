#pragma once

#include "util/clock.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lethe::net {

// One HTTP request: the method, the full URL, extra headers and the body (may be empty).
struct HttpRequest {
    std::string method;
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

// What came back. A transport failure leaves `status` at 0 and says why in `transport_error`.
struct HttpResponse {
    long status = 0; // 0 when there was no (complete) HTTP response
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers; // names lower-cased, values trimmed
    // Non-empty on network failure or timeout: generic text that never contains the URL (whose
    // path holds identifiers), e.g. "timeout", "connection failed", "TLS certificate not trusted".
    std::string transport_error;
    bool timed_out = false;
    TimeMs latency_ms = 0;

    // The value of the first header with this name (compared case-insensitively); nullopt when
    // there is none.
    std::optional<std::string> header(std::string_view lower_name) const;
};

// The outside effect "send an HTTP request"; the real one is CurlHttpClient, tests use fakes.
class HttpClient {
public:
    virtual ~HttpClient() = default;
    // Sends the request and waits for the answer; never throws for network or HTTP errors (they
    // are reported in the response).
    virtual HttpResponse perform(const HttpRequest& req) = 0;
};

} // namespace lethe::net
