#pragma once

#include "net/listen_address.hpp"
#include "serve/database_status.hpp"
#include "serve/intake_handler.hpp"

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace httplib {
class Server;
}

namespace lethe::serve {

// How the intake listens.
struct ServerSettings {
    net::ListenAddress address;
    std::string tls_cert_file; // HTTPS when both are set
    std::string tls_key_file;
    std::int64_t max_body_bytes = 16'384;
    int threads = 8; // connections served at once
};

// The HTTP side of `lethe serve`: POST /v1/erasure-requests, GET /healthz, GET /metrics.
class IntakeServer {
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
    // Serves until stop() (or until the listener fails); returns once every request in progress
    // has been answered.
    void run();
    // Stops accepting connections; run() returns when the requests in progress are answered.
    // Safe from any thread.
    void stop();

private:
    void routes();

    ServerSettings m_settings;
    const IntakeHandler& m_intake;
    StatusSource& m_status;
    std::unique_ptr<httplib::Server> m_server;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stop_requested = false;
};

} // namespace lethe::serve
