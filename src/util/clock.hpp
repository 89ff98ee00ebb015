#pragma once

#include <cstdint>

namespace lethe {

// Milliseconds since the Unix epoch, UTC.
using TimeMs = std::int64_t;

// Source of the current time; injected so time-dependent logic is tested without waiting.
class Clock {
public:
    virtual ~Clock() = default;
    // Current wall-clock time.
    virtual TimeMs now_ms() const = 0;
};

// Waits; injected beside Clock so tests of pacing and backoff never sleep.
class Sleeper {
public:
    virtual ~Sleeper() = default;
    // Blocks for `ms` milliseconds (or until woken early by the implementation).
    virtual void sleep_ms(TimeMs ms) = 0;
};

// The system clock.
class SystemClock final : public Clock {
public:
    TimeMs now_ms() const override;
};

// A real sleep.
class SystemSleeper final : public Sleeper {
public:
    void sleep_ms(TimeMs ms) override;
};

// A clock that only moves when told to; sleeping on it advances it.
class FakeClock final : public Clock, public Sleeper {
public:
    explicit FakeClock(TimeMs start) : m_now(start) {}
    TimeMs now_ms() const override { return m_now; }
    void sleep_ms(TimeMs ms) override { m_now += ms; }
    void advance(TimeMs ms) { m_now += ms; }
    void set(TimeMs now) { m_now = now; }

private:
    TimeMs m_now;
};

} // namespace lethe
