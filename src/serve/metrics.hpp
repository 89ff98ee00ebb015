#pragma once

#include "store/metrics_queries.hpp"
#include "util/fs.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace lethe::serve {

// Everything /metrics shows, gathered from the database at one moment.
struct MetricsSnapshot {
    std::map<std::string, std::int64_t> requests_by_state; // every state, zero when absent
    // workspace → erasure state → erasures (every state of a known workspace, zero when absent)
    std::map<std::string, std::map<std::string, std::int64_t>> erasures_by_workspace;
    store::CallTally calls;
    std::int64_t oldest_pending_seconds = 0; // age of the oldest active request; 0 when none
    std::int64_t overdue = 0;                // not erased and past the deadline
    std::int64_t at_risk = 0;                // not erased, deadline within 7 days
    std::int64_t audit_entries = 0;
    std::int64_t checkpoint_size = 0; // the latest signed checkpoint; 0 when none
    std::int64_t witness_quorum = 0;  // [audit] witness_quorum; 0: no witnesses
    std::int64_t witnessed_size = 0;  // the latest checkpoint with a quorum of cosignatures
    std::optional<std::int64_t> witnessed_age_seconds; // since it got its quorum; absent: none
    std::map<std::string, store::WorkerSeen> workers; // by workspace, from the audit log
    std::optional<FilesystemSpace> state_filesystem;  // of the database's directory
};

// The Prometheus text exposition format (version 0.0.4) of `m`, with # HELP and # TYPE lines.
// Label values are fixed words and numbers; no request or subject appears.
std::string render_metrics(const MetricsSnapshot& m);

// Content-Type of render_metrics' output.
inline constexpr const char* k_metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

} // namespace lethe::serve
