#include "cli/checkpoint_loop.hpp"

#include "audit/checkpoint.hpp"
#include "cli/witnessing.hpp"

#include <spdlog/spdlog.h>

namespace lethe::cli {

CheckpointLoop::CheckpointLoop(const config::Config& cfg, const Clock& clock)
    : m_cfg(cfg), m_clock(clock), m_db(cfg.database.path, store::OpenMode::existing),
      m_interval(cfg.audit.checkpoint_interval_s) {
    m_thread = std::thread([this] { loop(); });
}

CheckpointLoop::~CheckpointLoop() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

void CheckpointLoop::loop() {
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        if (m_wake.wait_for(lock, m_interval, [this] { return m_stopping; })) {
            return;
        }
        lock.unlock();
        checkpoint_once();
        lock.lock();
    }
}

void CheckpointLoop::checkpoint_once() {
    try {
        audit::write_checkpoint(m_db, m_cfg, m_clock);
        witness_latest_checkpoint(m_db, m_cfg, m_clock, false);
    } catch (const std::exception& e) {
        spdlog::error("periodic checkpoint failed (tried again in {} s): {}", m_interval.count(),
                      e.what());
    }
}

} // namespace lethe::cli
