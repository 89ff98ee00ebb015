#pragma once

#include "store/database.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

// Read-side queries for `lethe serve`'s /metrics and /healthz.
namespace lethe::store {

// Counts over the worker's call entries in the audit log ("call.suppress", "call.destroy").
struct CallTally {
    std::int64_t last_seq = 0; // entries up to this seq are counted
    // (workspace, call, HTTP status) → entries; status "none" when the call got no HTTP response;
    // workspace "default" for entries of schema 1, which had one workspace.
    std::map<std::tuple<std::string, std::string, std::string>, std::int64_t> calls;
    // Per workspace: successful destroy calls, one per person erased there.
    std::map<std::string, std::int64_t> erasures;
    // Per workspace: failed calls with a next attempt scheduled.
    std::map<std::string, std::int64_t> retries;
};

// What the audit log says of each workspace's workers (worker.*, call.* and workspace.* entries).
struct WorkerSeen {
    TimeMs last_seen_ms = 0;       // `at` of the latest such entry
    bool halted = false;           // the latest worker.started/stopped/halted is worker.halted
    bool pin_failing = false;      // a workspace.pin_failed not followed by a call or clean stop
    std::int64_t pin_failures = 0; // workspace.pin_failed entries
};

// Per workspace ("default" for entries of schema 1), counted incrementally like CallTally.
struct WorkerTally {
    std::int64_t last_seq = 0;
    std::map<std::string, WorkerSeen> workspaces;
};

// Adds the worker, call and workspace entries after tally.last_seq and moves last_seq to the head.
// The first call reads the whole log once (no index matches these events; a schema change was not
// worth it), later ones only the entries written since. Throws SQLite::Exception.
void tally_workers(Database& db, WorkerTally& tally);

// Adds the call entries after tally.last_seq and moves last_seq to the head of the log, in one
// read snapshot. The log is append-only (triggers refuse UPDATE and DELETE), so counting only the
// new entries on each scrape gives the same totals as a full scan: a scrape costs the entries
// written since the previous one (the seq range is the primary key). Throws SQLite::Exception.
void tally_calls(Database& db, CallTally& tally);

// The counts of /metrics at one moment, from the tables that triggers keep (migration 0005).
struct MetricCounts {
    // Every request state (erasure::k_request_states), zero when absent; 'suppressed' (schema 1)
    // counts as pending.
    std::map<std::string, std::int64_t> requests;
    // workspace → every erasure state plus "unverified" (done without a read-back), zero when
    // absent; only workspaces that have erasures.
    std::map<std::string, std::map<std::string, std::int64_t>> erasures;
    std::int64_t overdue = 0; // pending, suppressed or dead, and deadline_at < now
    // Pending, suppressed or dead, deadline_at >= now and due within k_at_risk_ms (to the hour:
    // the hour that holds now + 7 days counts whole).
    std::int64_t at_risk = 0;
    std::optional<TimeMs> oldest_pending_received_at;
};

// How far ahead a deadline puts a request at risk (lethe_requests_at_risk): 7 days.
inline constexpr TimeMs k_at_risk_ms = 7LL * 24 * 3'600'000;

// Reads MetricCounts in one read snapshot. Costs a few rows of state_counts, the hours of
// open_deadlines, an index range for the requests due in the current hour, and one index probe
// for the oldest active request: independent of the number of requests. Throws
// SQLite::Exception.
MetricCounts read_metric_counts(Database& db, TimeMs now);

// The number of entries in the audit log (its last seq; the log has no gaps).
std::int64_t audit_entry_count(Database& db);

// True when the database answers and its schema is the one this binary writes; `why` says what
// is wrong otherwise. Never throws.
bool schema_is_current(Database& db, std::string& why);

} // namespace lethe::store
