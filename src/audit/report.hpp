#pragma once

#include "store/database.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// `lethe report`: deadline compliance for the DPO, as text, JSON or one self-contained HTML file.
namespace lethe::audit {

// Parses a --since/--until value (ISO 8601). A bare date given as an upper bound means the end
// of that day, so `--until 2026-11-30` includes the 30th. Throws lethe::InputError naming the
// option when the text is not a time.
TimeMs parse_time_bound(std::string_view option, std::string_view text, bool upper);

// What to report on.
struct ReportOptions {
    std::optional<TimeMs> since; // requests received at or after (default: the first request)
    std::optional<TimeMs> until; // requests received before (default: now)
    int at_risk_days = 7;        // "at risk": not erased, deadline within this many days
    std::vector<std::string> witnesses; // [[audit.witness]] names, for the evidence section
    std::int64_t witness_quorum = 0;
};

// How far the audit log is signed and witnessed (docs/audit-format.md, "Witnesses").
struct ReportEvidence {
    std::int64_t log_size = 0;
    std::int64_t checkpoint_size = 0;   // the latest signed checkpoint
    std::int64_t witness_quorum = 0;    // 0: no witnesses
    std::int64_t witnessed_size = 0;    // the latest checkpoint with the quorum
    std::optional<TimeMs> witnessed_at; // when it got its quorum
};

// A request named in the report's lists.
struct ReportItem {
    std::string request_id;
    std::string state;
    TimeMs received_at = 0;
    TimeMs deadline_at = 0;
};

// Requests received and erased on one UTC day.
struct ReportDay {
    TimeMs day = 0; // midnight UTC
    std::int64_t received = 0;
    std::int64_t erased = 0;
};

// The figures of a report.
struct Report {
    TimeMs since = 0;
    TimeMs until = 0;
    TimeMs generated_at = 0;
    int at_risk_days = 7;
    std::int64_t received = 0;
    std::int64_t linked = 0; // of received: duplicates linked to another request of the subject
    std::int64_t erased = 0;
    std::int64_t dead = 0;
    std::int64_t cancelled = 0;
    std::int64_t in_progress = 0;
    std::optional<TimeMs> median_to_erasure;
    std::optional<TimeMs> p95_to_erasure;
    std::int64_t erased_on_time = 0;
    std::int64_t erased_late = 0;
    std::int64_t missed_open = 0;                // not erased (nor cancelled) and past the deadline
    std::optional<double> within_deadline_share; // erased_on_time / (erased + missed_open)
    std::vector<ReportItem> overdue;             // most overdue first
    std::vector<ReportItem> at_risk;             // nearest deadline first
    std::vector<ReportDay> days;
    // Per workspace: erasures of these requests by state (pending, suppressed, done, dead,
    // cancelled; zero when absent).
    std::map<std::string, std::map<std::string, std::int64_t>> workspaces;
    ReportEvidence evidence;
};

// Computes the report over the requests received in [since, until); states are as of now.
// Throws SQLite::Exception on database failure.
Report build_report(store::Database& db, const Clock& clock, const ReportOptions& options);

// Renders for a terminal.
std::string report_text(const Report& r);
// Renders as one JSON object.
std::string report_json(const Report& r);
// Renders as one self-contained HTML page with an inline SVG chart per day.
std::string report_html(const Report& r);

} // namespace lethe::audit
