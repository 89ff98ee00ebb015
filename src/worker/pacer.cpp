#include "worker/pacer.hpp"

#include <algorithm>

namespace lethe::worker {

TimeMs Pacer::next_start() const {
    std::lock_guard lock(m_mutex);
    TimeMs t = m_clock.now_ms();
    if (m_any_started) {
        t = std::max(t, m_last_start + m_interval);
    }
    return std::max(t, m_paused_until);
}

void Pacer::started() {
    started_at(m_clock.now_ms());
}

void Pacer::started_at(TimeMs at) {
    std::lock_guard lock(m_mutex);
    // The interval is a minimum between actual starts, so it is measured from this start.
    m_last_start = at;
    m_any_started = true;
}

bool Pacer::try_start() {
    std::lock_guard lock(m_mutex);
    const TimeMs now = m_clock.now_ms();
    if ((m_any_started && now < m_last_start + m_interval) || now < m_paused_until) {
        return false;
    }
    m_last_start = now;
    m_any_started = true;
    return true;
}

void Pacer::pause_until(TimeMs until) {
    std::lock_guard lock(m_mutex);
    m_paused_until = std::max(m_paused_until, until);
}

TimeMs Pacer::paused_until() const {
    std::lock_guard lock(m_mutex);
    return m_paused_until;
}

} // namespace lethe::worker
