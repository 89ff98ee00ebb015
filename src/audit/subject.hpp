#pragma once

#include "store/audit_log.hpp"
#include "store/audit_queries.hpp"
#include "store/database.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// `lethe audit subject`: one subject's history, found by digest; nobody else's entries appear.
namespace lethe::audit {

// Everything recorded about one subject digest.
struct SubjectHistory {
    std::string digest;
    std::vector<store::AuditEntry> entries;         // audit entries with this digest, seq order
    std::vector<store::SubjectRequest> requests;    // requests with this digest, oldest first
    std::vector<std::int64_t> entries_not_matching; // seqs whose hash does not match contents
    // The first erasure (a done request): when, by which request, and its deadline.
    std::optional<store::SubjectRequest> erased_by;
};

// Reads the history of `digest`. Throws SQLite::Exception on database failure.
SubjectHistory subject_history(store::Database& db, std::string_view digest);

// The history as text for people: the answer first, then the requests and the entries.
std::string subject_text(const SubjectHistory& h);

// The history as one JSON object.
std::string subject_json(const SubjectHistory& h);

} // namespace lethe::audit
