#include "serve/replay_guard.hpp"

#include "serve/signature.hpp"

#include <cstring>

namespace lethe::serve {
namespace {

// The first 8 bytes of a MAC. Two different honest queries share them with probability 2^-64;
// an attacker cannot aim for a collision without the secret.
std::uint64_t mac_key(std::string_view mac) {
    std::uint64_t key = 0;
    std::memcpy(&key, mac.data(), std::min(sizeof key, mac.size()));
    return key;
}

std::int64_t floor_seconds(TimeMs ms) {
    return ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
}

} // namespace

ReplayGuard::ReplayGuard(TimeMs started, std::size_t capacity)
    : m_started_s(floor_seconds(started)), m_capacity(capacity) {
}

void ReplayGuard::forget_expired(std::int64_t now_s) {
    // A query signed at t passes the window check while t >= now - window: older ones can go.
    const std::int64_t oldest_valid = now_s - k_replay_window_seconds;
    while (!m_by_second.empty() && m_by_second.begin()->first < oldest_valid) {
        m_size -= m_by_second.begin()->second.size();
        m_by_second.erase(m_by_second.begin());
    }
}

ReplayVerdict ReplayGuard::admit(std::int64_t timestamp_s, std::string_view mac, TimeMs now) {
    if (timestamp_s < m_started_s) {
        return ReplayVerdict::before_start;
    }
    std::lock_guard lock(m_mutex);
    forget_expired(floor_seconds(now));
    auto& second = m_by_second[timestamp_s];
    if (second.count(mac_key(mac)) != 0) {
        return ReplayVerdict::replayed;
    }
    if (m_size >= m_capacity) {
        if (second.empty()) {
            m_by_second.erase(timestamp_s);
        }
        return ReplayVerdict::full;
    }
    second.insert(mac_key(mac));
    ++m_size;
    return ReplayVerdict::fresh;
}

std::size_t ReplayGuard::size() const {
    std::lock_guard lock(m_mutex);
    return m_size;
}

} // namespace lethe::serve
