#pragma once

#include <cstdint>
#include <mutex>
#include <random>

namespace lethe {

// Source of randomness; injected so jitter is tested with known values.
class Random {
public:
    virtual ~Random() = default;
    // A uniformly distributed integer in [0, max_inclusive].
    virtual std::uint64_t uniform(std::uint64_t max_inclusive) = 0;
};

// std::mt19937_64 seeded from std::random_device; thread-safe. Not for secrets.
class SystemRandom final : public Random {
public:
    SystemRandom() : m_engine(std::random_device{}()) {}
    std::uint64_t uniform(std::uint64_t max_inclusive) override {
        std::lock_guard lock(m_mutex);
        return std::uniform_int_distribution<std::uint64_t>(0, max_inclusive)(m_engine);
    }

private:
    std::mutex m_mutex;
    std::mt19937_64 m_engine;
};

} // namespace lethe
