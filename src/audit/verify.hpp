#pragma once

#include "audit/flat_json.hpp"
#include "audit/note.hpp"
#include "config/config.hpp"
#include "store/audit_log.hpp"
#include "store/database.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

// `lethe audit verify`: the whole chain of the database or of an export file, against signed
// checkpoints (docs/audit-format.md, "Verifying").
namespace lethe::audit {

// The first problem found.
struct VerifyProblem {
    std::optional<std::int64_t> seq; // the first bad entry, when the problem is an entry's
    std::string where;               // "line 12" in an export, or the checkpoint's source
    std::string what;
};

// What was checked and the outcome.
struct VerifyReport {
    std::optional<VerifyProblem> problem; // empty: everything verified
    std::int64_t count = 0;               // entries checked
    std::int64_t first_seq = 0;
    std::int64_t last_seq = 0;
    std::string head_hash;
    std::string tree_root;            // hex Merkle root of the entries (database mode)
    std::int64_t signed_size = 0;     // the largest checkpoint size that matched
    std::vector<std::string> notes;   // one line per checkpoint and other findings
    std::vector<std::string> outside; // sources of given checkpoints outside an export's range
    std::string trailer_line;         // export mode: the trailer as read, for the witness check

    bool ok() const { return !problem; }
    // "seq 42: what" or "where: what", for the error message.
    std::string problem_text() const;
};

// Checkpoints to compare against.
struct CheckpointSources {
    std::vector<std::filesystem::path> files; // --checkpoint FILE...: each must verify and match
    bool stored = true; // database mode: also the latest in the database and checkpoint_dir
};

// Copies the members of an export's entry line (exactly the eight of docs/audit-format.md 4.1)
// out of `p` into `e` (views into the parser); false with the reason in `error` otherwise.
bool entry_from_json(const FlatJsonParser& p, store::AuditEntryView& e, std::string& error);

// Verifies every entry of the database (one snapshot) and the checkpoints. `cfg` locates
// checkpoint_dir. Throws lethe::Error only when a checkpoint file cannot be read.
VerifyReport verify_database(store::Database& db, const config::Config& cfg, const TrustedKeys& key,
                             const CheckpointSources& checkpoints);

// Verifies an export file (JSON Lines, or CSV with its FILE.checkpoint.json), streaming.
// Throws lethe::Error when the file cannot be read.
VerifyReport verify_export_file(const std::filesystem::path& file, const TrustedKeys& key,
                                const std::vector<std::filesystem::path>& checkpoint_files);

} // namespace lethe::audit
