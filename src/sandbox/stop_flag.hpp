#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace lethe::sandbox {

// A process-wide "we are shutting down" flag that also cuts short every injected sleep, so a
// SIGTERM never waits for a 30 s hang to run out.
class StopFlag {
public:
    // Sets the flag and wakes every sleeper.
    void request_stop();
    // True once request_stop() was called.
    bool stop_requested() const { return m_stopped.load(); }
    // Blocks until request_stop() is called.
    void wait();
    // Sleeps `ms` milliseconds; returns false when woken early by request_stop().
    bool sleep_ms(std::int64_t ms);

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::atomic<bool> m_stopped{false};
};

// Counts handlers that are running, so shutdown can wait for them (bounded).
class InFlight {
public:
    // RAII registration of one running handler.
    class Guard {
    public:
        explicit Guard(InFlight& owner) : m_owner(owner) { ++m_owner.m_count; }
        ~Guard() { --m_owner.m_count; }
        Guard(const Guard&) = delete;
        Guard& operator=(const Guard&) = delete;

    private:
        InFlight& m_owner;
    };
    // Handlers running right now.
    int count() const { return m_count.load(); }

private:
    std::atomic<int> m_count{0};
};

} // namespace lethe::sandbox
