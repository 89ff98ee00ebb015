#include "sandbox/rate_window.hpp"

namespace lethe::sandbox {

bool RateWindow::admit(TimeMs now_ms) {
    if (m_limit <= 0) {
        return true;
    }
    std::lock_guard lock(m_mutex);
    while (!m_admitted.empty() && m_admitted.front() <= now_ms - 1000) {
        m_admitted.pop_front();
    }
    if (m_admitted.size() >= static_cast<std::size_t>(m_limit)) {
        return false;
    }
    m_admitted.push_back(now_ms);
    return true;
}

} // namespace lethe::sandbox
