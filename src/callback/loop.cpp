#include "callback/loop.hpp"

#include "config/secrets.hpp"
#include "net/curl_client.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace lethe::callback {

std::vector<CallbackTarget> callback_targets(const config::Config& config) {
    std::vector<CallbackTarget> out;
    for (const auto& sender : config.intake.senders) {
        if (sender.callback_url.empty()) {
            continue;
        }
        CallbackTarget t;
        t.sender = sender.name;
        t.url = sender.callback_url;
        t.secret = config::resolve_sender_secrets(config, sender).keys.front();
        t.retry_ms = sender.callback_retry_hours * 3'600'000;
        out.push_back(std::move(t));
    }
    return out;
}

CallbackLoop::CallbackLoop(std::filesystem::path db_path, std::vector<CallbackTarget> targets,
                           TimeMs poll_ms)
    : m_db_path(std::move(db_path)), m_targets(std::move(targets)), m_poll_ms(poll_ms) {
    if (!m_targets.empty()) {
        m_thread = std::thread([this] { run(); });
    }
}

CallbackLoop::~CallbackLoop() {
    stop();
}

void CallbackLoop::stop(bool final_pass) {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
        m_final_pass = final_pass;
    }
    m_cv.notify_all();
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

bool CallbackLoop::wait(TimeMs ms) {
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, std::chrono::milliseconds(std::max<TimeMs>(ms, 1)),
                  [this] { return m_stop; });
    return !m_stop;
}

void CallbackLoop::reload(std::vector<CallbackTarget> targets) {
    std::lock_guard lock(m_mutex);
    m_reloaded = std::move(targets);
}

void CallbackLoop::run() {
    SystemClock clock;
    SystemRandom random;
    try {
        store::Database db(m_db_path, store::OpenMode::existing);
        net::CurlOptions options;
        options.timeout_ms = 10'000;
        net::CurlHttpClient http(options);
        CallbackDelivery delivery(db, http, clock, random, m_targets);
        spdlog::info("callbacks: delivering for {} sender{}", m_targets.size(),
                     m_targets.size() == 1 ? "" : "s");
        do {
            TimeMs wait_ms = m_poll_ms;
            try {
                delivery.deliver_due();
                if (auto due = delivery.next_due()) {
                    wait_ms = std::clamp<TimeMs>(*due - clock.now_ms(), 1, m_poll_ms);
                }
            } catch (const std::exception& e) {
                // Busy or failing database: the events stay in the outbox; try again later.
                spdlog::warn("callbacks: {}", e.what());
            }
            if (!wait(wait_ms)) {
                break;
            }
            std::optional<std::vector<CallbackTarget>> reloaded;
            {
                std::lock_guard lock(m_mutex);
                reloaded.swap(m_reloaded);
            }
            if (reloaded) {
                delivery.set_targets(std::move(*reloaded));
                spdlog::info("callbacks: secrets reloaded");
            }
        } while (true);
        bool final_pass = false;
        {
            std::lock_guard lock(m_mutex);
            final_pass = m_final_pass;
        }
        if (final_pass) {
            delivery.deliver_due();
        }
    } catch (const std::exception& e) {
        spdlog::error("callbacks: cannot deliver: {}", e.what());
    }
}

} // namespace lethe::callback
