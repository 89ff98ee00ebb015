#include "sandbox/stop_flag.hpp"

#include <chrono>

namespace lethe::sandbox {

void StopFlag::request_stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stopped = true;
    }
    m_cv.notify_all();
}

void StopFlag::wait() {
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [this] { return m_stopped.load(); });
}

bool StopFlag::sleep_ms(std::int64_t ms) {
    if (ms <= 0) {
        return !m_stopped.load();
    }
    std::unique_lock lock(m_mutex);
    return !m_cv.wait_for(lock, std::chrono::milliseconds(ms), [this] { return m_stopped.load(); });
}

} // namespace lethe::sandbox
