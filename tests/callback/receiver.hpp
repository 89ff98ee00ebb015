#pragma once

// A callback receiver for the tests: a real HTTP server on 127.0.0.1 at a port chosen before it
// starts (so that it can be "down" first), which answers a settable status and applies each
// event once by its event_id, as docs/intake.md asks receivers to.

#include "crypto/crypto.hpp"
#include "serve/signature.hpp"

#include <atomic>
#include <chrono>
#include <httplib.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace lethe::test {

class CallbackReceiver {
public:
    // One POST as received.
    struct Delivery {
        std::string event_id; // from the body
        std::string header_event_id;
        std::string body;
        int answered = 0;
        bool signature_ok = false;
    };

    CallbackReceiver(int port, std::string secret) : m_port(port), m_secret(std::move(secret)) {}
    ~CallbackReceiver() { stop(); }

    // Starts listening (the receiver comes up); throws when it cannot bind.
    void start() {
        m_server = std::make_unique<httplib::Server>();
        m_server->Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
            Delivery d;
            d.body = req.body;
            d.header_event_id = req.get_header_value("X-Lethe-Event-Id");
            const std::string ts = req.get_header_value(serve::k_timestamp_header);
            const std::string sig = req.get_header_value(serve::k_signature_header);
            d.signature_ok = serve::sign_request(m_secret, ts, req.body) == sig;
            d.event_id = nlohmann::json::parse(req.body).at("event_id").get<std::string>();
            std::lock_guard lock(m_mutex);
            d.answered = m_status;
            if (d.answered == 200 && d.signature_ok && m_applied.insert(d.event_id).second) {
                m_effects.push_back(d.event_id); // applied once, whatever the repeats
            }
            // A real receiver refuses a callback whose signature it cannot check.
            res.status = d.signature_ok ? d.answered : 401;
            res.set_content("{}", "application/json");
            m_deliveries.push_back(std::move(d));
        });
        if (!m_server->bind_to_port("127.0.0.1", m_port)) {
            throw std::runtime_error("receiver: cannot bind 127.0.0.1:" + std::to_string(m_port));
        }
        m_thread = std::thread([this] { m_server->listen_after_bind(); });
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!m_server->is_running() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }

    void stop() {
        if (m_server) {
            m_server->stop();
        }
        if (m_thread.joinable()) {
            m_thread.join();
        }
        m_server.reset();
    }

    void answer(int status) {
        std::lock_guard lock(m_mutex);
        m_status = status;
    }
    std::vector<Delivery> deliveries() const {
        std::lock_guard lock(m_mutex);
        return m_deliveries;
    }
    // The events applied, in the order they were applied.
    std::vector<std::string> effects() const {
        std::lock_guard lock(m_mutex);
        return m_effects;
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/lethe"; }

private:
    int m_port;
    std::string m_secret;
    std::unique_ptr<httplib::Server> m_server;
    std::thread m_thread;
    mutable std::mutex m_mutex;
    int m_status = 200;
    std::set<std::string> m_applied;
    std::vector<std::string> m_effects;
    std::vector<Delivery> m_deliveries;
};

} // namespace lethe::test
