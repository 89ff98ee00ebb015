#pragma once

#include "audit/note.hpp"
#include "audit/verify.hpp"
#include "store/database.hpp"

#include <cstdint>
#include <filesystem>
#include <vector>

// `lethe audit verify --witness VKEY... --quorum N`: the evidence must be vouched for by
// witnesses, so that whoever holds the checkpoint key cannot rewrite, fork or truncate the log
// unnoticed (docs/audit-format.md, "Witnesses"). Runs after the checks of verify.hpp passed.
namespace lethe::audit {

// The witnesses the verifier trusts and how many of them must have cosigned.
struct WitnessPolicy {
    std::vector<NoteVerifierKey> witnesses; // type 0x04 keys
    std::int64_t quorum = 0;                // 0: cosignatures are reported, not required
};

// Database: the newest stored checkpoint that carries `policy.quorum` valid cosignatures (or a
// given --checkpoint that does) must be signed by `key` and extended by the log. Adds a note per
// finding to `report`, or its problem.
void check_database_witnesses(store::Database& db, const TrustedKeys& key,
                              const WitnessPolicy& policy,
                              const std::vector<std::filesystem::path>& checkpoint_files,
                              VerifyReport& report);

// Export, after verify_export_file passed (`report.trailer_line` is the trailer it read): the
// trailer's witnessed_note (or a given --checkpoint of the export's head) must be signed by
// `key`, precede head_note (the witnessed_proof) and carry the quorum.
void check_export_witnesses(const TrustedKeys& key, const WitnessPolicy& policy,
                            const std::vector<std::filesystem::path>& checkpoint_files,
                            VerifyReport& report);

} // namespace lethe::audit
