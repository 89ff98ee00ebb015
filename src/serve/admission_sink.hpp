#pragma once

#include "audit/keys.hpp"
#include "intake/admission.hpp"
#include "serve/group_commit.hpp"
#include "store/database.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lethe::serve {

// Admits HTTP requests exactly as `lethe import` admits CSV rows (intake::Admission), on a
// database connection of its own; a batch is one transaction (GroupCommitSink).
class AdmissionSink final : public BatchAdmitter {
public:
    // Opens `db_path` (existing). Throws lethe::DatabaseError.
    AdmissionSink(const std::filesystem::path& db_path, store::Database::CipherLoader cipher,
                  const Clock& clock, audit::SubjectDigester digester,
                  std::vector<std::string> workspaces);
    // A refused request writes nothing (validation and the request_id lookup come before any
    // insert), so the others of its batch still land. Called by one thread at a time.
    std::vector<Admitted> admit_all(const std::vector<Submission>& batch) override;

private:
    store::Database m_db;
    const Clock& m_clock;
    audit::SubjectDigester m_digester;
    std::vector<std::string> m_workspaces;
    std::optional<intake::Admission> m_admission; // between batches: committed, statements kept
};

} // namespace lethe::serve
