#pragma once

#include "config/config.hpp"
#include "store/database.hpp"
#include "util/clock.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace lethe::cli {

// `lethe serve`: signs a checkpoint every [audit] checkpoint_interval_s on its own connection
// and submits it to the witnesses (retrying those that were down), so that a service running for
// months is checkpointed and witnessed as it goes, not only when it stops. A failure is logged
// and tried again at the next interval.
class CheckpointLoop {
public:
    CheckpointLoop(const config::Config& cfg, const Clock& clock);
    ~CheckpointLoop(); // stops the thread (an interval in progress finishes first)
    CheckpointLoop(const CheckpointLoop&) = delete;
    CheckpointLoop& operator=(const CheckpointLoop&) = delete;

private:
    void loop();
    void checkpoint_once();

    const config::Config& m_cfg;
    const Clock& m_clock;
    store::Database m_db;
    std::chrono::seconds m_interval;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stopping = false;
    std::thread m_thread;
};

} // namespace lethe::cli
