#pragma once

#include "store/audit_log.hpp"
#include "store/audit_queries.hpp"
#include "store/database.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

// `lethe audit subject`: one subject's history, found by digest; nobody else's entries appear.
namespace lethe::audit {

// Everything recorded about one subject: under its digest and, where that differs, under the
// digest of the identifier as given (what lethe wrote before subject digest v2).
struct SubjectHistory {
    std::string digest;          // of the canonical form (docs/audit-format.md, section 1)
    std::string as_given_digest; // of the identifier as given when it differs, else empty
    std::vector<store::AuditEntry> entries;         // audit entries with either digest, seq order
    std::vector<store::SubjectRequest> requests;    // requests with either digest, oldest first
    std::set<std::string> requests_as_given;        // request_ids of those found by as_given_digest
    std::int64_t entries_as_given = 0;              // how many entries have as_given_digest
    std::vector<std::int64_t> entries_not_matching; // seqs whose hash does not match contents
    // The first erasure (a done request): when, by which request, and its deadline.
    std::optional<store::SubjectRequest> erased_by;
};

// Reads the history of `digest` and, unless empty or equal, of `as_given_digest`. Throws
// SQLite::Exception on database failure.
SubjectHistory subject_history(store::Database& db, std::string_view digest,
                               std::string_view as_given_digest = {});

// The history as text for people: the answer first, then the requests and the entries.
std::string subject_text(const SubjectHistory& h);

// The history as one JSON object.
std::string subject_json(const SubjectHistory& h);

} // namespace lethe::audit
