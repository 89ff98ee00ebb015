#pragma once

#include "util/clock.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string_view>
#include <unordered_set>

// Refuses a status query presented twice (docs/intake.md, "Status"): a query reads only, but a
// recorded one replayed would tell an eavesdropper when a request's state changes.
namespace lethe::serve {

// What ReplayGuard::admit decided.
enum class ReplayVerdict {
    fresh,        // first time seen: answer it
    replayed,     // this signature was answered already within the window
    before_start, // signed before this process started: a previous one may have answered it
    full,         // too many queries inside the window to remember another: retry shortly
};

// Remembers the MAC of every answered query until its timestamp leaves the replay window. A MAC
// covers the timestamp, method and path, so a second query identical to the first within the
// same second is a replay too: a sender signs again in a later second.
//
// Memory is bounded by `capacity` MACs (8 bytes of each are kept, ~40 bytes a query with the
// set's overhead); when it is full, queries are refused (fail closed) until the oldest expire.
// Only MACs that matched a sender's secret are remembered, so no one without a secret can fill it.
class ReplayGuard {
public:
    static constexpr std::size_t k_default_capacity = 1'000'000;

    // `started`: when this process started; a query signed in an earlier second is refused,
    // since the guard does not know what a previous process answered.
    explicit ReplayGuard(TimeMs started, std::size_t capacity = k_default_capacity);

    // Records `mac` (the raw bytes a query presented, already checked against the sender's
    // secret and the window) of a query signed at `timestamp_s`, unless it must be refused.
    ReplayVerdict admit(std::int64_t timestamp_s, std::string_view mac, TimeMs now);

    // MACs remembered now (tests, metrics).
    std::size_t size() const;

private:
    void forget_expired(std::int64_t now_s);

    const std::int64_t m_started_s;
    const std::size_t m_capacity;
    mutable std::mutex m_mutex;
    // By the second the queries were signed in: a whole second expires at once.
    std::map<std::int64_t, std::unordered_set<std::uint64_t>> m_by_second;
    std::size_t m_size = 0;
};

} // namespace lethe::serve
