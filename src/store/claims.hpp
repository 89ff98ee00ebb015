#pragma once

#include "store/audit_log.hpp"
#include "store/database.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace lethe::store {

// A request leased to one worker.
struct ClaimedRequest {
    std::int64_t id = 0;
    std::string request_id;
    std::string identifier;
    std::string subject_digest;
    std::string state;        // "pending" (suppress next) or "suppressed" (destroy next)
    std::int64_t attempt = 0; // the number of this attempt, counting this one
};

// The outcome of one API call, as the audit log records it.
struct CallRecord {
    std::string call;     // "suppress" | "destroy"
    long http_status = 0; // 0: no HTTP response
    std::string outcome;  // "success" | "retryable" | "permanent" | "auth" | "halt"
    std::string error;    // short reason, no personal data
    TimeMs latency_ms = 0;
    bool already_gone = false; // destroy answered 404
};

// What `run --once` reports at the end.
struct QueueOutlook {
    std::int64_t due_now = 0;       // claimable now
    std::int64_t waiting_retry = 0; // active, next attempt in the future
    std::optional<TimeMs> next_attempt_at;
};

// The worker's side of the queue. Every method is one transaction; state changes and their
// audit entries commit together, and only while this worker still holds the lease. Safe to call
// from several threads (one connection behind a mutex).
class WorkerQueue {
public:
    WorkerQueue(Database& db, const Clock& clock, std::string owner);

    const std::string& owner() const { return m_owner; }
    // Leases the oldest due request (one UPDATE ... RETURNING) and counts the attempt; nullopt
    // when nothing is due.
    std::optional<ClaimedRequest> claim(TimeMs lease_ms);
    // Extends the lease of claim `r`; false when this claim no longer holds it.
    bool renew(const ClaimedRequest& r, TimeMs lease_ms);
    // pending → suppressed with the call's audit entries; keeps the lease. False if lease lost.
    bool record_suppressed(const ClaimedRequest& r, const CallRecord& call);
    // suppressed → done (identifier scrubbed), and every request linked to it. False if lease lost.
    bool record_done(const ClaimedRequest& r, const CallRecord& call);
    // A failed attempt: schedules the next one and releases the lease. False if lease lost.
    bool record_retry(const ClaimedRequest& r, const CallRecord& call, TimeMs next_attempt_at);
    // → dead with the reason, and every request linked to it; `call` (may be null) is the failed
    // call. False if lease lost.
    bool record_dead(const ClaimedRequest& r, const CallRecord* call, const std::string& reason);
    // Gives the request back without charging the attempt (shutdown, credentials refused); an
    // auth failure is recorded as a call entry when `call` is given.
    bool release(const ClaimedRequest& r, const CallRecord* call);
    // Appends a worker event (worker.started, worker.stopped, worker.halted).
    void audit_event(const std::string& event, const std::string& detail_json);
    // Due and waiting counts.
    QueueOutlook outlook(TimeMs horizon_ms);

private:
    std::string call_detail(const ClaimedRequest& r, const CallRecord& call,
                            std::optional<TimeMs> next_attempt_at) const;
    // Moves the requests linked to `primary_id` to `state` ("done" or "dead" with `reason`), each
    // with an audit entry naming the primary's request id `via`; returns how many.
    int finish_linked(std::int64_t primary_id, const std::string& state, const std::string& via,
                      const std::string& reason, AuditAppender& audit);

    Database& m_db;
    const Clock& m_clock;
    std::string m_owner;
    std::mutex m_mutex;
};

} // namespace lethe::store
