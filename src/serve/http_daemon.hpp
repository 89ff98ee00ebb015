#pragma once

#include "net/listen_address.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct MHD_Daemon;

namespace lethe::serve {

// Case-insensitive ordering for header names.
struct HeaderNameLess {
    bool operator()(const std::string& a, const std::string& b) const;
};

// A request as far as it is known before its body: what a route decides on.
struct RequestHead {
    std::string method;
    std::string path; // without the query string
    std::map<std::string, std::string, HeaderNameLess> headers;

    // The value of header `name` (the first when repeated); nullopt when absent.
    std::optional<std::string_view> header(const std::string& name) const;
};

// An answer.
struct HttpReply {
    int status = 500;
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers; // extra headers (Allow)
    bool close = false; // close the connection after the answer
};

// What the daemon serves. Called on the connection's own thread; must not throw (an exception is
// answered 500).
class HttpRoutes {
public:
    virtual ~HttpRoutes() = default;
    // Called once the headers are in: an answer here refuses the request before any byte of its
    // body is read (the connection is then closed, so an unread body is never parsed as the next
    // request). nullopt: read the body, then call answer().
    virtual std::optional<HttpReply> before_body(const RequestHead& head) = 0;
    // Called with the whole body (at most DaemonSettings::max_body_bytes).
    virtual HttpReply answer(const RequestHead& head, std::string_view body) = 0;
    // The answer for a body that grew past max_body_bytes while it was read (chunked).
    virtual HttpReply too_large(const RequestHead& head) = 0;
};

// The limits a hostile client meets. See docs/intake.md, "Exposure".
struct DaemonSettings {
    net::ListenAddress address;
    std::string tls_cert_pem; // HTTPS when both are set (PEM text, not paths)
    std::string tls_key_pem;
    std::size_t max_body_bytes = 16'384;
    // Per-connection memory for the request line, the headers and MHD's own buffers: a longer
    // header section is answered 431 (a longer URL 414).
    std::size_t connection_memory_bytes = 32 * 1024;
    unsigned connection_limit = 512;        // connections open at once (one thread each)
    unsigned connection_limit_per_ip = 384; // from one address (behind a proxy: all of them)
    unsigned idle_timeout_seconds = 5;      // a connection silent this long is closed
    // A chunked body past max_body_bytes is read on (and dropped) for at most this many more
    // bytes, so that a slightly oversized body still gets its 413; beyond it the connection is
    // closed at once.
    std::size_t discard_bytes = 64 * 1024;
    int drain_ms = 2000; // at stop: how long requests in progress may take to finish
};

// GNU libmicrohttpd serving HttpRoutes: one thread per connection (a slow handler, such as a
// commit waiting for a busy database, delays only its own connection), bounded memory per
// connection, no content decoding. start() and stop() are called from one thread.
class HttpDaemon {
public:
    // Throws std::runtime_error when TLS is configured but this libmicrohttpd has no TLS.
    HttpDaemon(DaemonSettings settings, HttpRoutes& routes);
    ~HttpDaemon();
    HttpDaemon(const HttpDaemon&) = delete;
    HttpDaemon& operator=(const HttpDaemon&) = delete;

    // Binds the listening socket and starts accepting; returns the port (the actual one when
    // the configured port is 0). Throws std::runtime_error when it cannot listen or start.
    int start();
    // Stops accepting, lets the requests in progress finish for at most drain_ms, then closes
    // every connection and joins their threads (a handler already running finishes first).
    // Idempotent; the destructor calls it.
    void stop();
    // Requests whose headers are in and whose answer has not been sent.
    int requests_in_progress() const { return m_in_progress.load(); }

private:
    friend struct DaemonCallbacks; // the MHD callbacks, in http_daemon.cpp

    DaemonSettings m_settings;
    HttpRoutes& m_routes;
    MHD_Daemon* m_daemon = nullptr;
    std::atomic<int> m_in_progress{0};
    std::atomic<bool> m_stopping{false};
};

} // namespace lethe::serve
