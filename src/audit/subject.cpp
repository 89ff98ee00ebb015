#include "audit/subject.hpp"

#include "util/time.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace lethe::audit {
namespace {

std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) {
        s.append(width - s.size(), ' ');
    }
    return s;
}

} // namespace

SubjectHistory subject_history(store::Database& db, std::string_view digest,
                               std::string_view as_given_digest) {
    SubjectHistory h;
    h.digest = digest;
    if (as_given_digest != digest) {
        h.as_given_digest = as_given_digest;
    }
    auto collect = [&h](const store::AuditEntry& e) {
        h.entries.push_back(e);
    };
    store::for_each_subject_entry(db, digest, collect);
    h.requests = store::subject_requests(db, digest);
    if (!h.as_given_digest.empty()) {
        store::for_each_subject_entry(db, h.as_given_digest, collect);
        for (auto& r : store::subject_requests(db, h.as_given_digest)) {
            h.requests_as_given.insert(r.request_id);
            h.requests.push_back(std::move(r));
        }
        std::stable_sort(h.requests.begin(), h.requests.end(), [](const auto& a, const auto& b) {
            return a.received_at < b.received_at;
        });
        std::sort(h.entries.begin(), h.entries.end(),
                  [](const auto& a, const auto& b) { return a.seq < b.seq; });
        h.entries_as_given = std::count_if(h.entries.begin(), h.entries.end(), [&h](const auto& e) {
            return e.subject_digest == h.as_given_digest;
        });
    }
    for (const auto& e : h.entries) {
        // The entries shown are checked one by one; `lethe audit verify` checks the chain.
        if (store::audit_entry_hash(e) != e.hash) {
            h.entries_not_matching.push_back(e.seq);
        }
    }
    for (const auto& r : h.requests) {
        if (r.state == "done" && r.finished_at &&
            (!h.erased_by || *r.finished_at < *h.erased_by->finished_at)) {
            h.erased_by = r;
        }
    }
    return h;
}

std::string subject_text(const SubjectHistory& h) {
    std::string out = "subject digest " + h.digest + "\n";
    if (!h.as_given_digest.empty()) {
        const auto canonical_entries =
            static_cast<std::int64_t>(h.entries.size()) - h.entries_as_given;
        const auto canonical_requests = h.requests.size() - h.requests_as_given.size();
        out += "also searched " + h.as_given_digest +
               " (the identifier as given, not in its canonical form: how lethe digested it "
               "before subject digest v2)\n";
        out += "matched: canonical digest " + std::to_string(canonical_entries) + " entries, " +
               std::to_string(canonical_requests) + " requests; as-given digest " +
               std::to_string(h.entries_as_given) + " entries, " +
               std::to_string(h.requests_as_given.size()) + " requests\n";
    }
    if (h.entries.empty() && h.requests.empty()) {
        out += "no requests and no audit entries for this subject (check the identifier, its "
               "exact spelling, and that this is the installation's subject key)\n";
        return out;
    }
    if (h.erased_by) {
        const auto& r = *h.erased_by;
        out += "erased: yes, " + format_iso8601(*r.finished_at) + " (request " + r.request_id +
               ", " + format_duration(*r.finished_at - r.received_at) + " after receipt, " +
               (*r.finished_at <= r.deadline_at ? "within" : "after") + " the deadline " +
               format_iso8601(r.deadline_at) + ")\n";
    } else {
        out += "erased: no\n";
    }
    out += "\nrequests:\n";
    for (const auto& r : h.requests) {
        out += "  " + pad(r.request_id, 24) + " " + pad(r.state, 10) + " received " +
               format_iso8601(r.received_at) + "  deadline " + format_iso8601(r.deadline_at);
        if (r.finished_at) {
            out += "  finished " + format_iso8601(*r.finished_at);
        }
        if (r.linked_to) {
            out += "  (linked to " + *r.linked_to + ")";
        }
        if (h.requests_as_given.count(r.request_id) != 0) {
            out += "  [as-given digest]";
        }
        out += "\n";
        for (const auto& [workspace, state] : r.erasures) {
            out += "    workspace " + pad(workspace, 32) + " " + state + "\n";
        }
    }
    out += "\nhistory (audit log):\n";
    for (const auto& e : h.entries) {
        out += "  " + pad("seq " + std::to_string(e.seq), 11) + " " + e.at + "  " +
               pad(e.event, 20) + " " + pad(e.request_ref, 24) + " " + e.detail +
               (!h.as_given_digest.empty() && e.subject_digest == h.as_given_digest
                    ? "  [as-given digest]"
                    : "") +
               "\n";
    }
    if (!h.entries_not_matching.empty()) {
        out += "\nWARNING: " + std::to_string(h.entries_not_matching.size()) +
               " entries do not match their hashes (first: seq " +
               std::to_string(h.entries_not_matching.front()) + "); run `lethe audit verify`\n";
    }
    return out;
}

std::string subject_json(const SubjectHistory& h) {
    nlohmann::json j;
    j["subject_digest"] = h.digest;
    j["as_given_digest"] =
        h.as_given_digest.empty() ? nlohmann::json(nullptr) : nlohmann::json(h.as_given_digest);
    auto matched_by = [&h](bool as_given) {
        return as_given ? "as_given" : "canonical";
    };
    j["erased"] = h.erased_by.has_value();
    if (h.erased_by) {
        j["erased_at"] = format_iso8601_ms(*h.erased_by->finished_at);
        j["erased_by_request"] = h.erased_by->request_id;
        j["erased_within_deadline"] = *h.erased_by->finished_at <= h.erased_by->deadline_at;
    }
    j["requests"] = nlohmann::json::array();
    for (const auto& r : h.requests) {
        nlohmann::json o{{"request_id", r.request_id},
                         {"state", r.state},
                         {"received_at", format_iso8601_ms(r.received_at)},
                         {"deadline_at", format_iso8601_ms(r.deadline_at)}};
        o["finished_at"] = r.finished_at ? nlohmann::json(format_iso8601_ms(*r.finished_at))
                                         : nlohmann::json(nullptr);
        o["linked_to"] = r.linked_to ? nlohmann::json(*r.linked_to) : nlohmann::json(nullptr);
        o["matched"] = matched_by(h.requests_as_given.count(r.request_id) != 0);
        o["erasures"] = nlohmann::json::array();
        for (const auto& [workspace, state] : r.erasures) {
            o["erasures"].push_back({{"workspace", workspace}, {"state", state}});
        }
        j["requests"].push_back(std::move(o));
    }
    j["entries"] = nlohmann::json::array();
    for (const auto& e : h.entries) {
        nlohmann::json o{{"seq", e.seq},       {"at", e.at},
                         {"event", e.event},   {"request_ref", e.request_ref},
                         {"detail", e.detail}, {"prev_hash", e.prev_hash},
                         {"hash", e.hash}};
        o["matched"] =
            matched_by(!h.as_given_digest.empty() && e.subject_digest == h.as_given_digest);
        j["entries"].push_back(std::move(o));
    }
    j["entries_not_matching_hash"] = h.entries_not_matching;
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

} // namespace lethe::audit
