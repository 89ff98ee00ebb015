#pragma once

#include "util/clock.hpp"

#include <mutex>

namespace lethe::worker {

// The start schedule shared by every in-flight erasure of a worker: consecutive erasure starts
// are at least `interval` apart, and a 429 pauses every start and call until it has passed. It
// is a schedule, not a sleep after each erasure, so slow API calls cost no extra waiting.
// Thread-safe.
class Pacer {
public:
    Pacer(TimeMs interval_ms, const Clock& clock) : m_interval(interval_ms), m_clock(clock) {}

    // The earliest time the next erasure may start (never before a pause ends).
    TimeMs next_start() const;
    // Records that an erasure started now.
    void started();
    // Records an erasure start at `at` (for callers that own the time).
    void started_at(TimeMs at);
    // Starts now if the schedule allows it, in one step: of several threads asking at once,
    // only as many start as the schedule lets through.
    bool try_start();
    // Slows the whole worker: nothing starts and no call is sent before `until`.
    void pause_until(TimeMs until);
    // The end of the current pause (or a time in the past).
    TimeMs paused_until() const;

private:
    mutable std::mutex m_mutex;
    TimeMs m_interval;
    const Clock& m_clock;
    bool m_any_started = false;
    TimeMs m_last_start = 0;
    TimeMs m_paused_until = 0;
};

} // namespace lethe::worker
