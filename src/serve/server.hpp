#pragma once

#include "net/listen_address.hpp"
#include "serve/database_status.hpp"
#include "serve/http_daemon.hpp"
#include "serve/intake_handler.hpp"

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace lethe::serve {

// How the intake listens.
struct ServerSettings {
    net::ListenAddress address;
    std::string tls_cert_file; // HTTPS when both are set
    std::string tls_key_file;
    std::int64_t max_body_bytes = 16'384;
    unsigned connection_limit = 512; // connections open at once (each has its own thread)
};

// The HTTP side of `lethe serve`: POST /v1/erasure-requests, GET /v1/erasure-requests/{id},
// GET /healthz, GET /metrics, served
// by HttpDaemon (GNU libmicrohttpd). The routes refuse before reading a body: another path (404),
// another method (405), an encoded body (415), a Content-Length above max_body_bytes (413).
class IntakeServer final : public HttpRoutes {
public:
    // Loads the TLS certificate and key when configured. Throws lethe::ConfigError when they
    // cannot be loaded.
    IntakeServer(const ServerSettings& settings, const IntakeHandler& intake, StatusSource& status);
    ~IntakeServer();
    IntakeServer(const IntakeServer&) = delete;
    IntakeServer& operator=(const IntakeServer&) = delete;

    // Binds the listening socket and returns the URL it is reachable at (with the actual port
    // when the configured one is 0). Throws std::runtime_error when it cannot listen.
    std::string bind();
    // Serves until stop(); then stops accepting, gives the requests in progress up to 2 s to be
    // answered, closes every connection (whatever its client does) and returns.
    void run();
    // Makes run() return (see there). Safe from any thread, also before run().
    void stop();

    std::optional<HttpReply> before_body(const RequestHead& head) override;
    HttpReply answer(const RequestHead& head, std::string_view body) override;
    HttpReply too_large(const RequestHead& head) override;

private:
    ServerSettings m_settings;
    const IntakeHandler& m_intake;
    StatusSource& m_status;
    std::unique_ptr<HttpDaemon> m_daemon;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stop_requested = false;
};

} // namespace lethe::serve
