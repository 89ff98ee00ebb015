#pragma once

#include "util/clock.hpp"

#include <deque>
#include <mutex>

namespace lethe::sandbox {

// At most `limit` admitted calls in any window of one second (the App API's 10 requests/s per
// workspace). Refused calls do not count. Thread-safe.
class RateWindow {
public:
    // A window admitting `limit` calls per second; 0 admits everything.
    explicit RateWindow(int limit) : m_limit(limit) {}
    // True (and counted) when a call at `now_ms` fits the window.
    bool admit(TimeMs now_ms);

private:
    int m_limit;
    std::mutex m_mutex;
    std::deque<TimeMs> m_admitted;
};

} // namespace lethe::sandbox
