#pragma once

#include "erasure/lifecycle.hpp"
#include "store/audit_log.hpp"
#include "store/database.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace lethe::store {

// An erasure (a request in one workspace) leased to one worker.
struct ClaimedErasure {
    std::int64_t id = 0;          // erasures.id
    std::int64_t request_row = 0; // requests.id
    std::string request_id;
    std::string workspace;
    std::string identifier;
    std::string id_type;
    std::string subject_digest;
    erasure::ErasureState state = erasure::ErasureState::pending;
    std::int64_t attempt = 0;          // every claim counts one: the claim's token
    std::int64_t step_attempt = 0;     // this attempt of the current step, counting it
    std::optional<TimeMs> erased_at;   // when the destroy step first succeeded
    std::int64_t erase_rounds = 0;     // times erased again after "still present"
    std::vector<std::string> profiles; // cio_ids found by resolution (personal data: memory only)
};

// The states of an erasure that still has work to do.
inline const std::vector<erasure::ErasureState> k_active_states = {
    erasure::ErasureState::pending, erasure::ErasureState::resolved,
    erasure::ErasureState::suppressed, erasure::ErasureState::erased};

// One Customer.io call, as the audit log records it.
struct CallRecord {
    erasure::Step step = erasure::Step::suppress;
    std::string target;   // the identifier type the call named ("cio_id", "email", "id"); no value
    long http_status = 0; // 0: no HTTP response
    erasure::Outcome outcome = erasure::Outcome::retryable;
    std::string error; // short reason, no personal data
    TimeMs latency_ms = 0;
    bool already_gone = false;   // destroy answered 404
    std::int64_t operations = 1; // a batch call (target "batch"): how many operations it carried
};

// What a step did, beyond its decision: its calls and what they found.
struct StepFacts {
    std::vector<CallRecord> calls;  // every call of the step, in order (may be empty)
    std::vector<std::string> found; // resolve and verify: cio_ids found, kept with the erasure
    std::int64_t present = 0;       // verify: how many profiles are still there
    bool verified = false;          // the workspace reads back (App API key): for the evidence
};

// What `run --once` reports at the end (for one workspace, or summed over several).
struct QueueOutlook {
    std::int64_t due_now = 0;       // claimable now
    std::int64_t waiting_retry = 0; // active, next attempt in the future
    std::optional<TimeMs> next_attempt_at;
    void add(const QueueOutlook& other);
};

// What planning the configured workspaces did (WorkerQueue::plan).
struct PlanReport {
    std::int64_t upgraded = 0; // schema-1 requests that got their erasures
    std::int64_t added = 0;    // erasures added for active requests in a workspace they lacked
};

// The worker's side of the queue. Every method is one transaction; state changes and their
// audit entries commit together, and only while this worker still holds the lease. Safe to call
// from several threads (one connection behind a mutex), the workers of several workspaces too.
class WorkerQueue {
public:
    WorkerQueue(Database& db, const Clock& clock, std::string owner);

    const std::string& owner() const { return m_owner; }
    // Gives every active request an erasure in each configured workspace it applies to and
    // lacks one in: requests of schema 1 (carrying their attempts and suppress over when exactly
    // one workspace is configured) and requests admitted before a workspace was added.
    PlanReport plan(const std::vector<std::string>& workspaces);
    // Leases the oldest due erasure of `workspace` (one UPDATE ... RETURNING) and counts the
    // attempt; nullopt when nothing is due there.
    std::optional<ClaimedErasure> claim(const std::string& workspace, TimeMs lease_ms);
    // Leases up to `limit` due erasures of `workspace` in one of `states`, oldest due first, and
    // counts an attempt of each (one transaction). Throws std::invalid_argument when `states`
    // is empty or `limit` < 1.
    std::vector<ClaimedErasure> claim_batch(const std::string& workspace,
                                            const std::vector<erasure::ErasureState>& states,
                                            std::int64_t limit, TimeMs lease_ms);
    // Extends the lease of claim `e`; false when this claim no longer holds it.
    bool renew(const ClaimedErasure& e, TimeMs lease_ms);
    // Applies a lifecycle decision for claim `e`: the erasure's next state and lease, an audit
    // entry for each of the step's calls and the decision's events, the profiles found, then the
    // request's aggregate state and, when it finished, its linked requests. `next_attempt_at` is
    // required when the decision retries. Updates `e`. False (and nothing written) when the lease
    // was lost.
    bool apply(ClaimedErasure& e, const erasure::Decision& decision, const StepFacts& facts,
               std::optional<TimeMs> next_attempt_at = std::nullopt);
    // Gives the erasure back without charging the attempt (shutdown); false if the lease was lost.
    bool release(const ClaimedErasure& e);
    // Appends a worker event (worker.started, worker.stopped, worker.halted, workspace.*).
    void audit_event(const std::string& event, const std::string& detail_json);
    // Due and waiting counts of one workspace.
    QueueOutlook outlook(const std::string& workspace, TimeMs horizon_ms);

private:
    // Reads the claimed erasure's request (identifier, digest) and profiles found so far.
    void load_claim(ClaimedErasure& e);
    std::string call_detail(const ClaimedErasure& e, const CallRecord& call,
                            std::optional<TimeMs> next_attempt_at) const;
    std::string event_detail(const ClaimedErasure& e, erasure::Event event,
                             const erasure::Decision& decision, const StepFacts& facts) const;
    // Recomputes the request's state from its erasures; on a change writes it with its event
    // and finishes the linked requests.
    void update_request(const ClaimedErasure& e, const erasure::Decision& decision,
                        AuditAppender& audit);
    // Moves the requests linked to `primary_id` to `state` (done or dead with `reason`), each
    // with an audit entry naming the primary's request id `via`; returns how many.
    int finish_linked(std::int64_t primary_id, erasure::RequestState state, const std::string& via,
                      const std::string& reason, AuditAppender& audit);

    Database& m_db;
    const Clock& m_clock;
    std::string m_owner;
    std::mutex m_mutex;
};

} // namespace lethe::store
