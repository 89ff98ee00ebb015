#pragma once

#include "callback/delivery.hpp"
#include "config/config.hpp"

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace lethe::callback {

// The targets of every sender with a callback_url, each with its current secret. Throws
// lethe::ConfigError when a secret cannot be resolved.
std::vector<CallbackTarget> callback_targets(const config::Config& config);

// Delivers callbacks on a thread of its own, over its own database connection and HTTP client,
// so that a slow or absent receiver never delays an erasure or the intake. It polls the outbox
// (events are written by whichever process finishes a request) every `poll_ms`, or sooner when a
// retry is due.
class CallbackLoop {
public:
    // Starts the thread; without targets it starts nothing.
    CallbackLoop(std::filesystem::path db_path, std::vector<CallbackTarget> targets,
                 TimeMs poll_ms = 1'000);
    ~CallbackLoop();
    CallbackLoop(const CallbackLoop&) = delete;
    CallbackLoop& operator=(const CallbackLoop&) = delete;

    // Makes the thread finish its current attempt and return; joins it. With `final_pass`, it
    // first sends what is due now (`lethe run --once`: what the drain finished). Idempotent.
    void stop(bool final_pass = false);
    // Hands the thread new targets (SIGHUP re-read the senders' secrets): used from the next
    // attempt on. Senders without a target before or after keep none (the loop's senders are
    // fixed at start). Any thread.
    void reload(std::vector<CallbackTarget> targets);

private:
    void run();
    // Waits up to `ms` or until stop(); returns false when stopped.
    bool wait(TimeMs ms);

    std::filesystem::path m_db_path;
    std::vector<CallbackTarget> m_targets;
    TimeMs m_poll_ms;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stop = false;
    bool m_final_pass = false;
    std::optional<std::vector<CallbackTarget>> m_reloaded; // taken by the thread
    std::thread m_thread;
};

} // namespace lethe::callback
