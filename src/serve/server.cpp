#include "serve/server.hpp"

#include "net/http_server.hpp"
#include "util/error.hpp"

#include <atomic>
#include <chrono>
#include <httplib.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <thread>

namespace lethe::serve {
namespace {

constexpr const char* k_intake_path = "/v1/erasure-requests";
// Idle keep-alive connections are closed after this, which also bounds how long a shutdown waits
// for them (httplib checks for stop() between requests).
constexpr time_t k_keep_alive_seconds = 2;
constexpr time_t k_read_timeout_seconds = 5;

void send(httplib::Response& res, const Reply& reply) {
    res.status = reply.status;
    res.set_content(reply.body, "application/json");
}

std::optional<std::string_view> header(const httplib::Request& req, const char* name) {
    auto it = req.headers.find(name);
    if (it == req.headers.end()) {
        return std::nullopt;
    }
    return std::string_view(it->second);
}

std::unique_ptr<httplib::Server> make_server(const ServerSettings& s) {
    if (s.tls_cert_file.empty()) {
        return std::make_unique<httplib::Server>();
    }
    auto server =
        std::make_unique<httplib::SSLServer>(s.tls_cert_file.c_str(), s.tls_key_file.c_str());
    if (!server->is_valid()) {
        throw ConfigError("intake.tls_cert_file/tls_key_file: cannot load " + s.tls_cert_file +
                          " and " + s.tls_key_file + " (a PEM certificate and its private key)");
    }
    SSL_CTX_set_min_proto_version(server->ssl_context(), TLS1_2_VERSION);
    return server;
}

// A JSON body for answers httplib makes itself (404, 413 from the Content-Length check, 400 for
// a malformed request line), so every answer has the same shape.
void fill_error(httplib::Response& res, std::int64_t max_body_bytes) {
    if (!res.body.empty()) {
        return;
    }
    switch (res.status) {
    case 404:
        send(res, json_reply(404, "not_found", "no such path"));
        break;
    case 413:
        send(res, json_reply(413, "too_large",
                             "body is larger than " + std::to_string(max_body_bytes) + " bytes"));
        break;
    default:
        send(res, json_reply(res.status, "error", "the request could not be read"));
        break;
    }
}

// Registers 405 answers for the methods `path` does not take.
void refuse_other_methods(httplib::Server& server, const char* path, const char* allowed) {
    auto refuse = [allowed](const httplib::Request&, httplib::Response& res) {
        res.set_header("Allow", allowed);
        send(res, json_reply(405, "method_not_allowed", std::string("use ") + allowed));
    };
    if (std::string_view(allowed) != "GET") {
        server.Get(path, refuse);
    } else {
        server.Post(path, refuse);
    }
    server.Put(path, refuse);
    server.Delete(path, refuse);
    server.Patch(path, refuse);
}

} // namespace

IntakeServer::IntakeServer(const ServerSettings& settings, const IntakeHandler& intake,
                           StatusSource& status)
    : m_settings(settings), m_intake(intake), m_status(status), m_server(make_server(settings)) {
    const auto threads = static_cast<std::size_t>(m_settings.threads);
    m_server->new_task_queue = [threads] {
        return new httplib::ThreadPool(threads);
    };
    m_server->set_keep_alive_timeout(k_keep_alive_seconds);
    m_server->set_keep_alive_max_count(10'000);
    m_server->set_read_timeout(k_read_timeout_seconds, 0);
    // Without TCP_NODELAY, Nagle holds the body until the client's delayed ACK (40 ms).
    m_server->set_tcp_nodelay(true);
    // httplib answers 413 from Content-Length before reading the body (and stops reading a
    // chunked body at the limit).
    m_server->set_payload_max_length(static_cast<std::size_t>(m_settings.max_body_bytes));
    routes();
}

IntakeServer::~IntakeServer() = default;

void IntakeServer::routes() {
    const std::int64_t limit = m_settings.max_body_bytes;
    m_server->set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
        net::assume_empty_body(req);
        return httplib::Server::HandlerResponse::Unhandled;
    });
    m_server->set_error_handler(
        [limit](const httplib::Request&, httplib::Response& res) { fill_error(res, limit); });
    m_server->set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
            send(res, json_reply(500, "error", "internal error"));
        });
    m_server->Post(k_intake_path, [this](const httplib::Request& req, httplib::Response& res) {
        PresentedSignature sig{header(req, k_timestamp_header), header(req, k_signature_header)};
        send(res, m_intake.handle(sig, req.body));
    });
    m_server->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
        Health h = m_status.health();
        send(res, h.ok ? json_reply(200, "ok") : json_reply(503, "unavailable", h.reason));
    });
    m_server->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
        try {
            res.set_content(render_metrics(m_status.metrics()), k_metrics_content_type);
        } catch (const std::exception& e) {
            spdlog::error("metrics: {}", e.what());
            send(res, json_reply(503, "unavailable", "database unreachable"));
        }
    });
    refuse_other_methods(*m_server, k_intake_path, "POST");
    refuse_other_methods(*m_server, "/healthz", "GET");
    refuse_other_methods(*m_server, "/metrics", "GET");
}

std::string IntakeServer::bind() {
    const int port = net::bind_server(*m_server, m_settings.address);
    return (m_settings.tls_cert_file.empty() ? "http://" : "https://") +
           m_settings.address.authority(port);
}

void IntakeServer::run() {
    std::atomic<bool> listener_done{false};
    std::thread listener([&] {
        m_server->listen_after_bind();
        listener_done = true;
        stop();
    });
    {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [this] { return m_stop_requested; });
    }
    // httplib ignores stop() until its listener is running: a signal right after bind() must
    // not be lost.
    while (!listener_done && !m_server->is_running()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    // Closes the listening socket; the pool then finishes the requests in progress, and
    // keep-alive connections close after their current request (or k_keep_alive_seconds idle).
    m_server->stop();
    listener.join();
}

void IntakeServer::stop() {
    std::lock_guard lock(m_mutex);
    m_stop_requested = true;
    m_cv.notify_all();
}

} // namespace lethe::serve
