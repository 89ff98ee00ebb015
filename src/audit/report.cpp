#include "audit/report.hpp"

#include "erasure/lifecycle.hpp"
#include "store/audit_queries.hpp"
#include "store/metrics_queries.hpp"
#include "store/witness_store.hpp"
#include "util/error.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

namespace lethe::audit {
namespace {

constexpr TimeMs k_day_ms = 86'400'000;

TimeMs day_of(TimeMs t) {
    TimeMs d = t / k_day_ms;
    if (t % k_day_ms < 0) {
        --d;
    }
    return d * k_day_ms;
}

// Nearest-rank percentile of sorted values: the smallest value with at least p of them at or
// below it.
TimeMs percentile(const std::vector<TimeMs>& sorted, double p) {
    auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    return sorted[std::max<std::size_t>(rank, 1) - 1];
}

std::string date_only(TimeMs t) {
    return format_iso8601(t).substr(0, 10);
}

std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out.push_back(c);
        }
    }
    return out;
}

std::string percent(double share) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", share * 100.0);
    return buf;
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

std::string opt_duration(const std::optional<TimeMs>& d) {
    return d ? format_duration(*d) : std::string("n/a");
}

std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) {
        s.insert(0, width - s.size(), ' ');
    }
    return s;
}

std::string pad_right(std::string s, std::size_t width) {
    if (s.size() < width) {
        s.append(width - s.size(), ' ');
    }
    return s;
}

// The chart's y axis: a round step (1, 2 or 5 times a power of ten) and a top that is a whole
// number of steps, at most four, at or above `max_value`. Gridlines at every step are then evenly
// spaced and labelled with exact integers (a top of 5 cut in quarters gave 0, 1, 2, 3, 5).
struct Axis {
    std::int64_t step = 1;
    std::int64_t top = 1;
};

Axis nice_axis(std::int64_t max_value) {
    const std::int64_t wanted = std::max<std::int64_t>(1, (max_value + 3) / 4); // step ≥ max/4
    std::int64_t p = 1;
    while (p * 10 <= wanted) {
        p *= 10;
    }
    Axis a;
    a.step = 10 * p;
    for (std::int64_t m : {1, 2, 5}) {
        if (m * p >= wanted) {
            a.step = m * p;
            break;
        }
    }
    a.top = std::max<std::int64_t>(1, (max_value + a.step - 1) / a.step) * a.step;
    return a;
}

std::string chart_svg(const Report& r) {
    const int width = 1000;
    const int height = 280;
    const int left = 48;
    const int right = 12;
    const int top = 16;
    const int bottom = 44;
    const int plot_w = width - left - right;
    const int plot_h = height - top - bottom;
    std::int64_t max_v = 0;
    for (const auto& d : r.days) {
        max_v = std::max({max_v, d.received, d.erased});
    }
    const Axis axis = nice_axis(max_v);
    const std::int64_t axis_max = axis.top;
    const double slot =
        static_cast<double>(plot_w) / static_cast<double>(std::max<std::size_t>(r.days.size(), 1));
    const double bar = std::max(slot * 0.38, 0.5);
    auto y_of = [&](std::int64_t v) {
        return top + plot_h - static_cast<double>(v) / static_cast<double>(axis_max) * plot_h;
    };

    std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                    std::to_string(width) + " " + std::to_string(height) +
                    "\" role=\"img\" aria-label=\"Requests received and erased per day\">\n";
    for (std::int64_t v = 0; v <= axis_max; v += axis.step) {
        const double y = y_of(v);
        s += "<line x1=\"" + std::to_string(left) + "\" x2=\"" + std::to_string(width - right) +
             "\" y1=\"" + number(y) + "\" y2=\"" + number(y) + "\" class=\"grid\"/>\n";
        s += "<text x=\"" + std::to_string(left - 6) + "\" y=\"" + number(y + 4) +
             "\" class=\"axis\" text-anchor=\"end\">" + std::to_string(v) + "</text>\n";
    }
    const std::size_t label_every = std::max<std::size_t>(1, (r.days.size() + 11) / 12);
    for (std::size_t i = 0; i < r.days.size(); ++i) {
        const auto& d = r.days[i];
        const double x0 = left + slot * static_cast<double>(i) + slot * 0.1;
        const std::string date = date_only(d.day);
        if (d.received > 0) {
            const double y = y_of(d.received);
            s += "<rect x=\"" + number(x0) + "\" y=\"" + number(y) + "\" width=\"" + number(bar) +
                 "\" height=\"" + number(top + plot_h - y) + "\" class=\"received\"><title>" +
                 date + ": " + std::to_string(d.received) + " received</title></rect>\n";
        }
        if (d.erased > 0) {
            const double y = y_of(d.erased);
            s += "<rect x=\"" + number(x0 + bar) + "\" y=\"" + number(y) + "\" width=\"" +
                 number(bar) + "\" height=\"" + number(top + plot_h - y) +
                 "\" class=\"erased\"><title>" + date + ": " + std::to_string(d.erased) +
                 " erased</title></rect>\n";
        }
        if (i % label_every == 0) {
            s += "<text x=\"" + number(x0 + bar) + "\" y=\"" +
                 std::to_string(height - bottom + 18) +
                 "\" class=\"axis\" text-anchor=\"middle\">" + date.substr(5) + "</text>\n";
        }
    }
    s += "<line x1=\"" + std::to_string(left) + "\" x2=\"" + std::to_string(width - right) +
         "\" y1=\"" + std::to_string(top + plot_h) + "\" y2=\"" + std::to_string(top + plot_h) +
         "\" class=\"baseline\"/>\n";
    s += "<rect x=\"" + std::to_string(left) + "\" y=\"" + std::to_string(height - 16) +
         "\" width=\"12\" height=\"12\" class=\"received\"/><text x=\"" +
         std::to_string(left + 18) + "\" y=\"" + std::to_string(height - 6) +
         "\" class=\"axis\">received</text>\n";
    s += "<rect x=\"" + std::to_string(left + 100) + "\" y=\"" + std::to_string(height - 16) +
         "\" width=\"12\" height=\"12\" class=\"erased\"/><text x=\"" + std::to_string(left + 118) +
         "\" y=\"" + std::to_string(height - 6) + "\" class=\"axis\">erased</text>\n";
    s += "</svg>\n";
    return s;
}

std::string item_table(const std::vector<ReportItem>& items, TimeMs now, bool overdue) {
    if (items.empty()) {
        return "<p class=\"none\">None.</p>\n";
    }
    std::string s = "<table><thead><tr><th>Request</th><th>State</th><th>Received</th>"
                    "<th>Deadline</th><th>" +
                    std::string(overdue ? "Overdue by" : "Time left") +
                    "</th></tr></thead><tbody>\n";
    for (const auto& i : items) {
        s += "<tr><td class=\"id\">" + html_escape(i.request_id) + "</td><td>" +
             html_escape(i.state) + "</td><td>" + format_iso8601(i.received_at) + "</td><td>" +
             format_iso8601(i.deadline_at) + "</td><td>" +
             format_duration(overdue ? now - i.deadline_at : i.deadline_at - now) + "</td></tr>\n";
    }
    return s + "</tbody></table>\n";
}

nlohmann::json items_json(const std::vector<ReportItem>& items) {
    auto a = nlohmann::json::array();
    for (const auto& i : items) {
        a.push_back({{"request_id", i.request_id},
                     {"state", i.state},
                     {"received_at", format_iso8601_ms(i.received_at)},
                     {"deadline_at", format_iso8601_ms(i.deadline_at)}});
    }
    return a;
}

} // namespace

TimeMs parse_time_bound(std::string_view option, std::string_view text, bool upper) {
    auto t = parse_iso8601(text);
    if (!t) {
        throw InputError(std::string(option) + ": \"" + std::string(text) +
                         "\" is not an ISO 8601 date or time (e.g. 2026-11-01 or "
                         "2026-11-01T12:00:00Z)");
    }
    const bool date_only_text = text.size() == 10;
    return upper && date_only_text ? *t + k_day_ms : *t;
}

Report build_report(store::Database& db, const Clock& clock, const ReportOptions& options) {
    Report r;
    const TimeMs now = clock.now_ms();
    r.generated_at = now;
    r.at_risk_days = options.at_risk_days;
    r.until = options.until.value_or(now + 1);
    r.since = options.since ? *options.since : store::earliest_received_at(db).value_or(r.until);
    r.since = std::min(r.since, r.until);
    const TimeMs risk_horizon = now + static_cast<TimeMs>(options.at_risk_days) * k_day_ms;

    std::map<TimeMs, ReportDay> days;
    for (TimeMs d = day_of(r.since); d <= day_of(std::max(r.since, r.until - 1)); d += k_day_ms) {
        days[d] = ReportDay{d, 0, 0};
    }
    std::vector<TimeMs> to_erasure;
    store::for_each_report_request(db, r.since, r.until, [&](const store::ReportRequestRow& q) {
        ++r.received;
        r.linked += q.linked ? 1 : 0;
        if (auto it = days.find(day_of(q.received_at)); it != days.end()) {
            ++it->second.received;
        }
        const bool active = q.state == "pending" || q.state == "suppressed"; // schema 1
        if (q.state == "done") {
            ++r.erased;
            const TimeMs finished = q.finished_at.value_or(q.received_at);
            to_erasure.push_back(finished - q.received_at);
            (finished <= q.deadline_at ? r.erased_on_time : r.erased_late) += 1;
            if (finished >= r.since && finished < r.until) {
                auto it = days.find(day_of(finished));
                if (it != days.end()) {
                    ++it->second.erased;
                }
            }
        } else if (q.state == "dead") {
            ++r.dead;
        } else if (q.state == "cancelled") {
            ++r.cancelled;
        } else if (active) {
            ++r.in_progress;
        }
        // Not erased and not withdrawn: either past the deadline already, or close to it.
        if (active || q.state == "dead") {
            ReportItem item{q.request_id, q.state, q.received_at, q.deadline_at};
            if (q.deadline_at < now) {
                ++r.missed_open;
                r.overdue.push_back(std::move(item));
            } else if (q.deadline_at < risk_horizon) {
                r.at_risk.push_back(std::move(item));
            }
        }
    });
    for (auto& [_, d] : days) {
        r.days.push_back(d);
    }
    std::sort(to_erasure.begin(), to_erasure.end());
    if (!to_erasure.empty()) {
        r.median_to_erasure = percentile(to_erasure, 0.5);
        r.p95_to_erasure = percentile(to_erasure, 0.95);
    }
    const std::int64_t judged = r.erased + r.missed_open;
    if (judged > 0) {
        r.within_deadline_share =
            static_cast<double>(r.erased_on_time) / static_cast<double>(judged);
    }
    auto by_deadline = [](const ReportItem& a, const ReportItem& b) {
        return a.deadline_at != b.deadline_at ? a.deadline_at < b.deadline_at
                                              : a.request_id < b.request_id;
    };
    std::sort(r.overdue.begin(), r.overdue.end(), by_deadline);
    std::sort(r.at_risk.begin(), r.at_risk.end(), by_deadline);
    for (const auto& [workspace, counts] : store::report_workspace_counts(db, r.since, r.until)) {
        auto& row = r.workspaces[workspace];
        for (auto state : erasure::k_erasure_states) {
            const std::string name(erasure::to_text(state));
            auto it = counts.find(name);
            row[name] = it == counts.end() ? 0 : it->second;
        }
        auto unverified = counts.find("unverified");
        row["unverified"] = unverified == counts.end() ? 0 : unverified->second;
    }
    r.evidence.log_size = store::audit_entry_count(db);
    r.evidence.checkpoint_size = store::latest_checkpoint_size(db);
    r.evidence.witness_quorum = options.witness_quorum;
    if (auto w = store::latest_witnessed(db, options.witnesses, options.witness_quorum)) {
        r.evidence.witnessed_size = w->size;
        r.evidence.witnessed_at = w->witness_time * 1000;
    }
    return r;
}

namespace {

// One line on how much of the audit log a signature and the witnesses vouch for.
std::string evidence_text(const ReportEvidence& e, TimeMs now) {
    std::string s = "audit log: " + std::to_string(e.log_size) + " entries, " +
                    std::to_string(e.checkpoint_size) + " covered by a signed checkpoint";
    if (e.witness_quorum == 0) {
        return s + ", no witnesses configured";
    }
    if (!e.witnessed_at) {
        return s + ", none witnessed yet (quorum " + std::to_string(e.witness_quorum) + ")";
    }
    return s + ", " + std::to_string(e.witnessed_size) + " witnessed (quorum " +
           std::to_string(e.witness_quorum) + ", " + format_duration(now - *e.witnessed_at) +
           " ago)";
}

} // namespace

std::string report_text(const Report& r) {
    std::string s = "erasure report: requests received " + format_iso8601(r.since) + " to " +
                    format_iso8601(r.until) + "\n(states as of " + format_iso8601(r.generated_at) +
                    ")\n\n";
    auto line = [&s](const std::string& label, std::int64_t v, const std::string& extra = "") {
        s += pad_right(label + ":", 14) + pad(std::to_string(v), 8) + extra + "\n";
    };
    line("received", r.received,
         r.linked > 0
             ? "  (" + std::to_string(r.linked) + " linked duplicate" + (r.linked == 1 ? ")" : "s)")
             : "");
    line("erased", r.erased);
    line("dead", r.dead);
    line("cancelled", r.cancelled);
    line("in progress", r.in_progress);
    s += "\ntime from receipt to erasure: median " + opt_duration(r.median_to_erasure) +
         ", 95th percentile " + opt_duration(r.p95_to_erasure) + "\n";
    s += "erased within the deadline:   ";
    if (r.within_deadline_share) {
        s += percent(*r.within_deadline_share) + " (" + std::to_string(r.erased_on_time) + " of " +
             std::to_string(r.erased + r.missed_open) + "; erased late " +
             std::to_string(r.erased_late) + ", past the deadline and not erased " +
             std::to_string(r.missed_open) + ")\n";
    } else {
        s += "n/a (no request has been erased or passed its deadline)\n";
    }
    if (!r.workspaces.empty()) {
        s += "\nper workspace (erasures of these requests):\n";
        for (const auto& [workspace, counts] : r.workspaces) {
            s += "  " + pad_right(workspace, 24);
            for (auto state : erasure::k_erasure_states) {
                const std::string name(erasure::to_text(state));
                s += " " + name + " " + std::to_string(counts.at(name));
            }
            s += " (unverified " + std::to_string(counts.at("unverified")) + ")";
            s += "\n";
        }
    }
    const TimeMs now = r.generated_at;
    s += "\n" + evidence_text(r.evidence, now) + "\n";
    s += "\noverdue (" + std::to_string(r.overdue.size()) + "):\n";
    for (const auto& i : r.overdue) {
        s += "  " + pad_right(i.request_id, 24) + " " + pad_right(i.state, 10) + " deadline " +
             format_iso8601(i.deadline_at) + "  overdue by " +
             format_duration(now - i.deadline_at) + "\n";
    }
    s += "\nat risk, deadline within " + std::to_string(r.at_risk_days) + " days (" +
         std::to_string(r.at_risk.size()) + "):\n";
    for (const auto& i : r.at_risk) {
        s += "  " + pad_right(i.request_id, 24) + " " + pad_right(i.state, 10) + " deadline " +
             format_iso8601(i.deadline_at) + "  " + format_duration(i.deadline_at - now) +
             " left\n";
    }
    return s;
}

std::string report_json(const Report& r) {
    nlohmann::json j;
    j["since"] = format_iso8601_ms(r.since);
    j["until"] = format_iso8601_ms(r.until);
    j["generated_at"] = format_iso8601_ms(r.generated_at);
    j["counts"] = {{"received", r.received},   {"linked", r.linked},
                   {"erased", r.erased},       {"dead", r.dead},
                   {"cancelled", r.cancelled}, {"in_progress", r.in_progress}};
    auto opt_ms = [](const std::optional<TimeMs>& v) {
        return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
    };
    j["time_to_erasure_ms"] = {{"median", opt_ms(r.median_to_erasure)},
                               {"p95", opt_ms(r.p95_to_erasure)}};
    j["deadline"] = {{"erased_on_time", r.erased_on_time},
                     {"erased_late", r.erased_late},
                     {"missed_not_erased", r.missed_open},
                     {"within_deadline_share", r.within_deadline_share
                                                   ? nlohmann::json(*r.within_deadline_share)
                                                   : nlohmann::json(nullptr)}};
    j["at_risk_days"] = r.at_risk_days;
    j["overdue"] = items_json(r.overdue);
    j["at_risk"] = items_json(r.at_risk);
    auto days = nlohmann::json::array();
    for (const auto& d : r.days) {
        days.push_back({{"day", date_only(d.day)}, {"received", d.received}, {"erased", d.erased}});
    }
    j["days"] = std::move(days);
    j["workspaces"] = r.workspaces;
    const auto& e = r.evidence;
    j["evidence"] = {{"log_size", e.log_size},
                     {"checkpoint_size", e.checkpoint_size},
                     {"witness_quorum", e.witness_quorum},
                     {"witnessed_size", e.witnessed_size},
                     {"witnessed_at", e.witnessed_at
                                          ? nlohmann::json(format_iso8601(*e.witnessed_at))
                                          : nlohmann::json(nullptr)}};
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {

// Each workspace's erasures of the period's requests, by state.
std::string workspace_table(const Report& r) {
    if (r.workspaces.empty()) {
        return "<p class=\"none\">No erasure has been planned for these requests yet.</p>\n";
    }
    std::string s = "<table>\n<tr><th>Workspace</th>";
    for (auto state : erasure::k_erasure_states) {
        s += "<th>" + std::string(erasure::to_text(state)) + "</th>";
    }
    s += "<th>of done: unverified</th></tr>\n";
    for (const auto& [workspace, counts] : r.workspaces) {
        s += "<tr><td class=\"id\">" + html_escape(workspace) + "</td>";
        for (auto state : erasure::k_erasure_states) {
            s += "<td>" + std::to_string(counts.at(std::string(erasure::to_text(state)))) + "</td>";
        }
        const std::int64_t unverified = counts.at("unverified");
        s += std::string(unverified > 0 ? "<td class=\"warn\">" : "<td>") +
             std::to_string(unverified) + "</td></tr>\n";
    }
    return s + "</table>\n";
}

} // namespace

std::string report_html(const Report& r) {
    const std::string period = date_only(r.since) + " to " + date_only(r.until - 1);
    std::string s = R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Erasure report )" +
                    html_escape(period) +
                    R"(</title>
<style>
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d2430;
       margin: 2rem auto; max-width: 1100px; padding: 0 1.5rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin-top: 2.2rem; border-bottom: 1px solid #d8dde6; padding-bottom: .3rem; }
.sub { color: #5b6576; margin-top: 0; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: .8rem; }
.tile { border: 1px solid #d8dde6; border-radius: 8px; padding: .7rem .9rem; background: #f8f9fb; }
.tile .v { font-size: 1.7rem; font-weight: 600; }
.tile .l { color: #5b6576; font-size: .85rem; }
.tile.bad { background: #fdecec; border-color: #e8a9a9; }
.tile.warn { background: #fff6e0; border-color: #e9cf8a; }
.tile.good { background: #eaf6ee; border-color: #9fd0ae; }
svg { width: 100%; height: auto; }
svg .grid { stroke: #e3e7ee; stroke-width: 1; }
svg .baseline { stroke: #8a93a3; stroke-width: 1; }
svg .axis { font-size: 11px; fill: #5b6576; }
svg .received { fill: #4a6fa5; }
svg .erased { fill: #3c9d5d; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e3e7ee; }
th { background: #f1f3f7; }
td.id { font-family: ui-monospace, Menlo, Consolas, monospace; }
.none { color: #5b6576; }
.notes { color: #5b6576; font-size: .85rem; }
</style>
</head>
<body>
)";
    s += "<h1>Erasure report</h1>\n<p class=\"sub\">Requests received " + html_escape(period) +
         " (" + format_iso8601(r.since) + " to " + format_iso8601(r.until) +
         ", UTC). States as of " + format_iso8601(r.generated_at) + ".</p>\n";

    auto tile = [&s](const std::string& value, const std::string& label, const char* cls = "") {
        s += std::string("<div class=\"tile ") + cls + "\"><div class=\"v\">" + value +
             "</div><div class=\"l\">" + label + "</div></div>\n";
    };
    s += "<h2>Summary</h2>\n<div class=\"tiles\">\n";
    tile(std::to_string(r.received),
         "requests received" + (r.linked > 0 ? " (" + std::to_string(r.linked) +
                                                   (r.linked == 1 ? " duplicate" : " duplicates") +
                                                   " of another request)"
                                             : std::string()));
    tile(std::to_string(r.erased), "erased", "good");
    tile(std::to_string(r.in_progress), "in progress");
    tile(std::to_string(r.dead), "failed (dead)", r.dead > 0 ? "warn" : "");
    tile(std::to_string(r.cancelled), "cancelled");
    s += "</div>\n<h2>Deadlines</h2>\n<div class=\"tiles\">\n";
    tile(r.within_deadline_share ? percent(*r.within_deadline_share) : "n/a",
         "erased within the statutory deadline",
         !r.within_deadline_share ? "" : (*r.within_deadline_share >= 0.999 ? "good" : "warn"));
    tile(opt_duration(r.median_to_erasure), "median time from receipt to erasure");
    tile(opt_duration(r.p95_to_erasure), "95th percentile time to erasure");
    tile(std::to_string(r.overdue.size()), "overdue now", r.overdue.empty() ? "good" : "bad");
    tile(std::to_string(r.at_risk.size()),
         "at risk (deadline within " + std::to_string(r.at_risk_days) + " days)",
         r.at_risk.empty() ? "" : "warn");
    s += "</div>\n<h2>Requests per day</h2>\n" + chart_svg(r);
    s += "<h2>Per workspace</h2>\n" + workspace_table(r);
    s += "<h2>Evidence</h2>\n<p>" + html_escape(evidence_text(r.evidence, r.generated_at)) +
         "</p>\n";
    s += "<h2>Overdue requests</h2>\n" + item_table(r.overdue, r.generated_at, true);
    s += "<h2>At-risk requests</h2>\n" + item_table(r.at_risk, r.generated_at, false);
    s += "<h2>How to read this report</h2>\n<ul class=\"notes\">\n"
         "<li>The report covers requests <em>received</em> in the period; their states are as of "
         "the time the report was made.</li>\n"
         "<li>The deadline is one calendar month from receipt (Art. 12(3) GDPR), or three when "
         "it was extended.</li>\n"
         "<li>Erased within the deadline: erased requests finished by their deadline, out of all "
         "erased requests plus those past their deadline and not erased. Cancelled requests, and "
         "requests still within their deadline, do not count.</li>\n"
         "<li>Times to erasure use the nearest-rank method.</li>\n"
         "<li>Overdue: not erased and past the deadline (including failed requests). At risk: "
         "not erased and the deadline falls within " +
         std::to_string(r.at_risk_days) +
         " days.</li>\n"
         "<li>No personal data appears here: requests are named by their request ID only.</li>\n"
         "</ul>\n</body>\n</html>\n";
    return s;
}

} // namespace lethe::audit
