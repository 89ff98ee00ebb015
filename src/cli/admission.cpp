#include "cli/admission.hpp"

namespace lethe::cli {

Admission::Admission(store::Database& db, const Clock& clock,
                     const audit::SubjectDigester& digester)
    : m_clock(clock), m_digester(digester), m_batch(db, clock) {
}

std::optional<std::string> Admission::admit(const intake::RawRequest& raw,
                                            const std::string& source) {
    ++m_counts.rows;
    const TimeMs now = m_clock.now_ms();
    intake::Validation v = intake::validate_request(raw, now);
    if (!v.request) {
        ++m_counts.bad;
        return v.reason;
    }
    const intake::ValidRequest& req = *v.request;
    store::NewRequest row;
    row.identifier = req.identifier;
    row.id_type = std::string(intake::to_string(req.id_type));
    row.subject_digest = m_digester.digest(req.identifier);
    row.request_id = req.request_id.empty()
                         ? m_digester.derived_request_id(req.identifier, raw.received_at)
                         : req.request_id;
    row.source = source;
    row.received_at = req.received_at.value_or(now);
    row.received_at_given = req.received_at.has_value();

    m_last = m_batch.insert(row);
    m_last_request_id = row.request_id;
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
        return "request_id " + row.request_id +
               " is already known with a different subject, type or received_at";
    }
    return std::nullopt;
}

audit::SubjectDigester load_digester(const std::filesystem::path& subject_key_file) {
    return audit::SubjectDigester(audit::load_subject_key(subject_key_file));
}

std::string identifier_argument(const std::string& arg, std::istream& in) {
    if (arg != "-") {
        return arg;
    }
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) {
        line.pop_back();
    }
    return line;
}

} // namespace lethe::cli
