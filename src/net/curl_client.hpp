#pragma once

#include "net/http.hpp"

#include <memory>
#include <string>

namespace lethe::net {

// Settings of one CurlHttpClient. TLS verification is not among them: it is always on.
struct CurlOptions {
    long timeout_ms = 30'000;         // whole request, connection included
    long connect_timeout_ms = 10'000; // TCP + TLS handshake
    std::string ca_file;              // extra trust anchor(s), PEM; empty = system store only
    std::string user_agent;           // empty = "lethe/VERSION"
};

// HttpClient on one reused libcurl easy handle, so consecutive calls share a kept-alive
// connection. Policy: TLS >= 1.2 with peer and host verification always on (the system store,
// plus `ca_file` when given), only http:// and https://, redirects are never followed (the
// caller decides), no signals. Not thread-safe: use one instance per in-flight erasure.
class CurlHttpClient final : public HttpClient {
public:
    // Creates the handle. Throws lethe::ConfigError when ca_file cannot be read or holds no
    // certificate, or when libcurl cannot enforce the TLS policy; lethe::Error when libcurl cannot
    // be initialised.
    explicit CurlHttpClient(CurlOptions options);
    ~CurlHttpClient() override;
    CurlHttpClient(const CurlHttpClient&) = delete;
    CurlHttpClient& operator=(const CurlHttpClient&) = delete;

    // Sends the request on the kept-alive connection (opening one when needed). Network errors,
    // timeouts and refused TLS come back as status 0 with a generic transport_error; never throws.
    HttpResponse perform(const HttpRequest& req) override;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace lethe::net
