#include "serve/metrics.hpp"

#include <set>
#include <tuple>

namespace lethe::serve {
namespace {

// Escapes a label value as the format requires (backslash, double quote, line feed).
std::string label_value(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\\' || c == '"') {
            out.push_back('\\');
            out.push_back(c);
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, const char* name, const std::string& labels, std::int64_t value) {
    out.append(name);
    if (!labels.empty()) {
        out.append("{").append(labels).append("}");
    }
    out.append(" ").append(std::to_string(value)).append("\n");
}

// A gauge without labels: its # HELP and # TYPE lines and its one sample.
void gauge(std::string& out, const char* name, const char* help, std::int64_t value) {
    header(out, name, "gauge", help);
    sample(out, name, "", value);
}

// Every workspace the snapshot knows of, so each counter has a sample (0) from the start.
std::set<std::string> known_workspaces(const MetricsSnapshot& m) {
    std::set<std::string> out;
    for (const auto& [w, states] : m.erasures_by_workspace) {
        out.insert(w);
    }
    for (const auto& [key, count] : m.calls.calls) {
        out.insert(std::get<0>(key));
    }
    return out;
}

std::int64_t value_or_zero(const std::map<std::string, std::int64_t>& m, const std::string& key) {
    auto it = m.find(key);
    return it == m.end() ? 0 : it->second;
}

void render_workers(std::string& out, const std::map<std::string, store::WorkerSeen>& workers) {
    header(out, "lethe_worker_last_seen_timestamp_seconds", "gauge",
           "Unix time of the latest audit entry a worker wrote for the workspace (started, "
           "stopped, halted, a call).");
    for (const auto& [workspace, w] : workers) {
        sample(out, "lethe_worker_last_seen_timestamp_seconds",
               "workspace=\"" + label_value(workspace) + "\"", w.last_seen_ms / 1000);
    }
    header(out, "lethe_worker_halted", "gauge",
           "1 when the workspace's latest worker run ended halted (credentials, pin check, "
           "database), 0 otherwise.");
    for (const auto& [workspace, w] : workers) {
        sample(out, "lethe_worker_halted", "workspace=\"" + label_value(workspace) + "\"",
               w.halted ? 1 : 0);
    }
    header(out, "lethe_workspace_pin_failing", "gauge",
           "1 when the workspace's latest pin check failed (no call made since), 0 otherwise.");
    for (const auto& [workspace, w] : workers) {
        sample(out, "lethe_workspace_pin_failing", "workspace=\"" + label_value(workspace) + "\"",
               w.pin_failing ? 1 : 0);
    }
    header(out, "lethe_workspace_pin_failures_total", "counter",
           "Pin checks failed (workspace.pin_failed entries), by workspace.");
    for (const auto& [workspace, w] : workers) {
        sample(out, "lethe_workspace_pin_failures_total",
               "workspace=\"" + label_value(workspace) + "\"", w.pin_failures);
    }
}

void render_filesystem(std::string& out, const std::optional<FilesystemSpace>& fs) {
    if (!fs) {
        return;
    }
    gauge(out, "lethe_state_filesystem_size_bytes",
          "Size of the filesystem that holds the database.",
          static_cast<std::int64_t>(fs->size_bytes));
    header(out, "lethe_state_filesystem_avail_bytes", "gauge",
           "Bytes lethe may still write on the filesystem that holds the database.");
    sample(out, "lethe_state_filesystem_avail_bytes", "",
           static_cast<std::int64_t>(fs->avail_bytes));
}

} // namespace

std::string render_metrics(const MetricsSnapshot& m) {
    std::string out;
    header(out, "lethe_requests", "gauge", "Erasure requests by state.");
    for (const auto& [state, count] : m.requests_by_state) {
        sample(out, "lethe_requests", "state=\"" + label_value(state) + "\"", count);
    }
    header(out, "lethe_workspace_erasures", "gauge",
           "Erasures (a request in one workspace) by workspace and state.");
    for (const auto& [workspace, states] : m.erasures_by_workspace) {
        for (const auto& [state, count] : states) {
            sample(out, "lethe_workspace_erasures",
                   "workspace=\"" + label_value(workspace) + "\",state=\"" + label_value(state) +
                       "\"",
                   count);
        }
    }
    header(out, "lethe_erasures_total", "counter",
           "People erased, by workspace: successful destroy calls (linked duplicate requests not "
           "counted again).");
    const std::set<std::string> workspaces = known_workspaces(m);
    for (const auto& workspace : workspaces) {
        sample(out, "lethe_erasures_total", "workspace=\"" + label_value(workspace) + "\"",
               value_or_zero(m.calls.erasures, workspace));
    }
    header(out, "lethe_api_calls_total", "counter",
           "Track API calls by workspace, call and HTTP status (code=\"none\": no HTTP "
           "response).");
    for (const auto& [key, count] : m.calls.calls) {
        const auto& [workspace, call, code] = key;
        sample(out, "lethe_api_calls_total",
               "workspace=\"" + label_value(workspace) + "\",call=\"" + label_value(call) +
                   "\",code=\"" + label_value(code) + "\"",
               count);
    }
    header(out, "lethe_retries_total", "counter",
           "Failed calls scheduled for a later attempt, by workspace.");
    for (const auto& workspace : workspaces) {
        sample(out, "lethe_retries_total", "workspace=\"" + label_value(workspace) + "\"",
               value_or_zero(m.calls.retries, workspace));
    }
    gauge(out, "lethe_oldest_pending_seconds",
          "Seconds since the oldest active (pending or suppressed) request was received; 0 when "
          "none.",
          m.oldest_pending_seconds);
    gauge(out, "lethe_overdue_requests",
          "Requests past their deadline that are not erased (pending, suppressed or dead).",
          m.overdue);
    gauge(out, "lethe_requests_at_risk",
          "Requests not erased (pending, suppressed or dead) whose deadline is within 7 days.",
          m.at_risk);
    gauge(out, "lethe_audit_entries", "Entries in the audit log.", m.audit_entries);
    gauge(out, "lethe_audit_checkpoint_size", "Entries covered by the latest signed checkpoint.",
          m.checkpoint_size);
    gauge(out, "lethe_audit_witness_quorum",
          "Witness cosignatures a checkpoint needs to be witnessed (0: no witnesses).",
          m.witness_quorum);
    gauge(out, "lethe_audit_witnessed_size",
          "Entries covered by the latest witnessed checkpoint (0 when none).", m.witnessed_size);
    if (m.witnessed_age_seconds) {
        gauge(out, "lethe_audit_witnessed_age_seconds",
              "Seconds since the latest witnessed checkpoint got its quorum.",
              *m.witnessed_age_seconds);
    }
    render_workers(out, m.workers);
    render_filesystem(out, m.state_filesystem);
    return out;
}

} // namespace lethe::serve
