#include "intake/admission.hpp"

#include <algorithm>
#include <set>
#include <spdlog/spdlog.h>

namespace lethe::intake {
namespace {

bool is_workspace_name(const std::string& s) {
    return !s.empty() && s.size() <= 32 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

// The workspaces a request names, checked against the configured ones; sets `reason` when
// refused.
std::optional<std::vector<std::string>> named_workspaces(const std::string& text,
                                                         const std::vector<std::string>& configured,
                                                         std::string& reason) {
    std::set<std::string> names;
    std::string word;
    auto take = [&]() -> bool {
        if (word.empty()) {
            return true;
        }
        // A name that is not a workspace name may be anything (a column mix-up: a person's
        // data), so only a well-formed name is quoted back.
        if (!is_workspace_name(word)) {
            reason = "workspaces: not a list of workspace names";
            return false;
        }
        if (std::find(configured.begin(), configured.end(), word) == configured.end()) {
            std::string names_text;
            for (const auto& w : configured) {
                names_text += (names_text.empty() ? "" : ", ") + w;
            }
            reason = "workspaces: '" + word + "' is not a configured workspace (configured: " +
                     (names_text.empty() ? "none" : names_text) + ")";
            return false;
        }
        names.insert(word);
        word.clear();
        return true;
    };
    for (char c : text) {
        if (c == ',' || c == ' ' || c == '\t') {
            if (!take()) {
                return std::nullopt;
            }
        } else {
            word += c;
        }
    }
    if (!take()) {
        return std::nullopt;
    }
    if (names.empty()) {
        reason = "workspaces: empty list (leave it out to erase in every workspace)";
        return std::nullopt;
    }
    return std::vector<std::string>(names.begin(), names.end());
}

} // namespace

PreparedRequest prepare_request(const RawRequest& raw, const std::string& source, TimeMs now,
                                const audit::SubjectDigester& digester,
                                const std::vector<std::string>& workspaces) {
    intake::Validation v = intake::validate_request(raw, now);
    if (!v.request) {
        return {std::nullopt, v.reason};
    }
    const intake::ValidRequest& req = *v.request;
    store::NewRequest row;
    row.identifier = req.identifier;
    row.id_type = std::string(intake::to_string(req.id_type));
    row.subject_digest = digester.digest(req.identifier, req.id_type);
    row.request_id = req.request_id.empty()
                         ? digester.derived_request_id(req.identifier, req.id_type, raw.received_at)
                         : req.request_id;
    if (audit::canonical_subject(req.identifier, req.id_type) != req.identifier) {
        // Admitted before subject digest v2, this row had the digest and derived request_id of
        // the identifier as given; sent again, it must still be the same request.
        row.legacy_digest = digester.digest_as_given(req.identifier);
        if (req.request_id.empty()) {
            row.legacy_request_id =
                digester.derived_request_id_as_given(req.identifier, raw.received_at);
        }
    }
    row.source = source;
    row.received_at = req.received_at.value_or(now);
    row.received_at_given = req.received_at.has_value();
    if (!raw.workspaces.empty()) {
        std::string reason;
        row.workspaces = named_workspaces(raw.workspaces, workspaces, reason);
        if (!row.workspaces) {
            return {std::nullopt, reason};
        }
    }
    return {std::move(row), {}};
}

std::string conflict_reason(const std::string& request_id) {
    return "request_id " + request_id +
           " is already known with a different subject, type, received_at or workspaces";
}

Admission::Admission(store::Database& db, const Clock& clock,
                     const audit::SubjectDigester& digester, std::vector<std::string> workspaces)
    : m_clock(clock), m_workspaces(workspaces), m_digester(digester),
      m_batch(db, clock, std::move(workspaces)) {
}

std::optional<std::string> Admission::admit(const intake::RawRequest& raw,
                                            const std::string& source) {
    ++m_counts.rows;
    PreparedRequest prepared =
        prepare_request(raw, source, m_clock.now_ms(), m_digester, m_workspaces);
    if (!prepared.request) {
        ++m_counts.bad;
        return prepared.reason;
    }
    const store::NewRequest& row = *prepared.request;
    m_last = m_batch.insert(row);
    m_last_request_id = m_last.known_as.empty() ? row.request_id : m_last.known_as;
    m_last_subject_digest = row.subject_digest;
    switch (m_last.outcome) {
    case store::InsertOutcome::created:
        ++m_counts.created;
        break;
    case store::InsertOutcome::linked:
        ++m_counts.linked;
        break;
    case store::InsertOutcome::known:
        ++m_counts.known;
        break;
    case store::InsertOutcome::conflict:
        ++m_counts.bad;
        return conflict_reason(row.request_id);
    }
    return std::nullopt;
}

audit::SubjectDigester load_digester(const std::filesystem::path& subject_key_file) {
    return audit::SubjectDigester(audit::load_subject_key(subject_key_file));
}

store::RedigestReport upgrade_subject_digests(store::Database& db, const Clock& clock,
                                              const audit::SubjectDigester& digester) {
    if (!store::redigest_needed(db)) {
        return {};
    }
    auto report = store::redigest_pending(
        db, clock, [&](const std::string& identifier, const std::string& t) {
            // The stored type is one of the three (a CHECK constraint); inferring is the fallback.
            auto type = intake::parse_id_type(t).value_or(intake::infer_id_type(identifier));
            return digester.digest(identifier, type);
        });
    if (report.ran) {
        spdlog::info("subject digest v2: {} request{} digested again, {} linked to an earlier "
                     "request for the same person",
                     report.redigested, report.redigested == 1 ? "" : "s", report.linked);
    }
    return report;
}

} // namespace lethe::intake
