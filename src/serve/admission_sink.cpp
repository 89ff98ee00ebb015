#include "serve/admission_sink.hpp"

#include "intake/admission.hpp"

namespace lethe::serve {
namespace {

Admitted admit_one(intake::Admission& admission, const intake::RawRequest& raw,
                   const SenderIdentity& sender) {
    using Outcome = Admitted::Outcome;
    Admitted a;
    if (auto reason = admission.admit(raw, "http", {sender.name, sender.callback})) {
        a.reason = *reason;
        // Admission reports `conflict` for this call only for a known request_id with other
        // content (or another sender's); any other refusal is a validation failure.
        if (admission.last().outcome == store::InsertOutcome::conflict) {
            a.outcome = Outcome::conflict;
            a.request_id = admission.last_request_id();
            a.subject_digest = admission.last_subject_digest();
        }
        return a;
    }
    const auto& last = admission.last();
    a.outcome = last.outcome == store::InsertOutcome::created  ? Outcome::created
                : last.outcome == store::InsertOutcome::linked ? Outcome::linked
                                                               : Outcome::known;
    a.request_id = admission.last_request_id();
    if (last.linked_sender == sender.name) {
        a.linked_to = last.linked_to; // another sender's request is not named
    }
    a.subject_digest = admission.last_subject_digest();
    return a;
}

} // namespace

AdmissionSink::AdmissionSink(const std::filesystem::path& db_path,
                             store::Database::CipherLoader cipher, const Clock& clock,
                             audit::SubjectDigester digester, std::vector<std::string> workspaces)
    : m_db(db_path, store::OpenMode::existing), m_clock(clock), m_digester(std::move(digester)),
      m_workspaces(std::move(workspaces)) {
    m_db.set_cipher_loader(std::move(cipher));
}

std::vector<Admitted> AdmissionSink::admit_all(const std::vector<Submission>& batch) {
    try {
        // One Admission for the sink's life: its statements are prepared once.
        if (m_admission) {
            m_admission->begin_next();
        } else {
            m_admission.emplace(m_db, m_clock, m_digester, m_workspaces);
        }
        std::vector<Admitted> out;
        out.reserve(batch.size());
        for (const auto& s : batch) {
            out.push_back(admit_one(*m_admission, *s.raw, *s.sender));
        }
        m_admission->commit();
        return out;
    } catch (...) {
        m_admission.reset(); // rolls the batch back; the next one starts afresh
        throw;
    }
}

} // namespace lethe::serve
