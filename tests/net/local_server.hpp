#pragma once

// Test helpers shared by tests/net and tests/cio: a real HTTP(S) server on 127.0.0.1 inside the
// test process, a port nobody listens on, and self-signed certificates made with openssl(1).

#include <arpa/inet.h>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <httplib.h>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace lethe::test {

// One request as the server saw it.
struct SeenRequest {
    std::string method;
    std::string target; // raw request target, percent-encoding intact
    std::string body;
    httplib::Headers headers;
    int remote_port = -1;

    // The header's value, or "" when absent.
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

// An httplib server on 127.0.0.1 (a free port) that records every request and answers with
// `respond`; it runs in a thread from construction to destruction.
class LocalServer {
public:
    using Responder = std::function<void(const httplib::Request&, httplib::Response&)>;

    // Plain HTTP. Throws std::runtime_error when it cannot listen.
    explicit LocalServer(Responder respond)
        : LocalServer(std::make_unique<httplib::Server>(), std::move(respond), "http") {}

    // HTTPS with the given PEM certificate and key. Throws std::runtime_error when it cannot.
    LocalServer(Responder respond, const std::filesystem::path& cert,
                const std::filesystem::path& key)
        : LocalServer(std::make_unique<httplib::SSLServer>(cert.c_str(), key.c_str()),
                      std::move(respond), "https") {}

    ~LocalServer() {
        m_server->stop();
        if (m_thread.joinable()) {
            m_thread.join();
        }
    }
    LocalServer(const LocalServer&) = delete;
    LocalServer& operator=(const LocalServer&) = delete;

    int port() const { return m_port; }
    // "http://127.0.0.1:PORT" (or https).
    std::string url() const { return m_scheme + "://127.0.0.1:" + std::to_string(m_port); }
    // Everything received so far, in order.
    std::vector<SeenRequest> seen() const {
        std::lock_guard lock(m_mutex);
        return m_seen;
    }

private:
    LocalServer(std::unique_ptr<httplib::Server> server, Responder respond, std::string scheme)
        : m_server(std::move(server)), m_respond(std::move(respond)), m_scheme(std::move(scheme)) {
        if (!m_server->is_valid()) {
            throw std::runtime_error("test server: invalid certificate or key");
        }
        auto handler = [this](const httplib::Request& req, httplib::Response& res) {
            {
                std::lock_guard lock(m_mutex);
                m_seen.push_back({req.method, req.target, req.body, req.headers, req.remote_port});
            }
            m_respond(req, res);
        };
        m_server->Get(".*", handler);
        m_server->Post(".*", handler);
        m_server->Put(".*", handler);
        m_server->Delete(".*", handler);
        m_port = m_server->bind_to_any_port("127.0.0.1");
        if (m_port <= 0) {
            throw std::runtime_error("test server: cannot bind 127.0.0.1");
        }
        m_thread = std::thread([this] { m_server->listen_after_bind(); });
        // stop() only works once the accept loop runs; wait for it (the socket already
        // listens, so clients could connect anyway).
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!m_server->is_running() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }

    std::unique_ptr<httplib::Server> m_server;
    Responder m_respond;
    std::string m_scheme;
    int m_port = 0;
    std::thread m_thread;
    mutable std::mutex m_mutex;
    std::vector<SeenRequest> m_seen;
};

// A 127.0.0.1 port that nobody listens on (bound, then released), so connecting is refused.
inline int closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        throw std::runtime_error("socket() failed");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("bind() failed");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

// Paths of a self-signed certificate and its key.
struct CertFiles {
    std::filesystem::path cert;
    std::filesystem::path key;
};

// Makes a self-signed P-256 certificate valid for `san` (e.g. "IP:127.0.0.1,DNS:localhost") in
// `dir`, named `name`.pem / `name`.key. Throws std::runtime_error when openssl fails.
inline CertFiles make_self_signed(const std::filesystem::path& dir, const std::string& name,
                                  const std::string& san = "IP:127.0.0.1,DNS:localhost") {
    CertFiles f{dir / (name + ".pem"), dir / (name + ".key")};
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=" + name +
        " -addext subjectAltName=" + san + " -days 2 -keyout '" + f.key.string() + "' -out '" +
        f.cert.string() + "' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) {
        throw std::runtime_error("openssl could not make a test certificate");
    }
    return f;
}

} // namespace lethe::test
