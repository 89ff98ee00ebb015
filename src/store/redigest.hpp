#pragma once

#include "store/database.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <functional>
#include <string>

// Subject digest v2 (issue 15): the one-time re-digest of the requests that still hold their
// identifier, after the canonical form changed (docs/audit-format.md, section 1).
namespace lethe::store {

// The name of the step in the upgrade_steps table (migrations/0003_subject_digest_v2.sql).
inline constexpr const char* k_subject_digest_v2_step = "subject_digest_v2";

// The new digest of an identifier of type `id_type` ("id", "email" or "cio_id").
using SubjectDigestFn =
    std::function<std::string(const std::string& identifier, const std::string& id_type)>;

// What redigest_pending did.
struct RedigestReport {
    bool ran = false;            // false: it had been done before
    std::int64_t redigested = 0; // requests whose digest changed
    std::int64_t linked = 0;     // active requests linked to an earlier one for the same person
    std::int64_t withdrawn = 0;  // their unfinished erasures, now the earlier request's work
};

// Whether the re-digest still has to run on this database.
bool redigest_needed(Database& db);

// Runs the re-digest once, in one IMMEDIATE transaction, and records that it ran. Every request
// with an identifier gets `digest(identifier, id_type)`; each whose digest changes gets a
// `request.redigested` entry with its previous digest. Two active primary requests that now name
// the same person are linked like a new duplicate: the later (by admission order) waits on the
// earlier, whose scope is widened to cover the later's, and the later's unfinished erasures are
// withdrawn (cancelled). Returns {ran = false} when it had already run. Throws SQLite::Exception
// on database failure (then nothing changed).
RedigestReport redigest_pending(Database& db, const Clock& clock, const SubjectDigestFn& digest);

} // namespace lethe::store
