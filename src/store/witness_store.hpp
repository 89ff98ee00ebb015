#pragma once

#include "store/database.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Witness cosignatures of checkpoints and the submission state per witness (migration 0009).
namespace lethe::store {

// One cosignature line a witness returned for a checkpoint (verified before it was stored).
struct StoredCosignature {
    std::string witness;
    std::string line; // "— NAME BASE64\n"
    std::int64_t witness_time = 0;
};

// The cosignatures of checkpoint `checkpoint_id`, by witness name.
std::vector<StoredCosignature> cosignatures_of(Database& db, std::int64_t checkpoint_id);

// `note` (checkpoint `checkpoint_id` as signed) followed by its cosignature lines: the note as
// shown, exported and written to checkpoint_dir.
std::string note_with_cosignatures(Database& db, std::int64_t checkpoint_id, std::string note);

// Records a cosignature (a second one by the same witness for the same checkpoint is ignored).
void insert_cosignature(Database& db, std::int64_t checkpoint_id, const StoredCosignature& c,
                        TimeMs received_at);

// The largest checkpoint size that `witness` cosigned, 0 when none.
std::int64_t largest_cosigned_size(Database& db, std::string_view witness);

// What lethe knows of one witness between submissions.
struct WitnessSubmission {
    std::string witness;
    std::optional<std::int64_t> witness_size; // what it said it cosigned last (a 409)
    std::int64_t attempts = 0;                // failures since its last cosignature
    TimeMs next_attempt_at = 0;
    std::string last_error;
};

std::optional<WitnessSubmission> witness_submission(Database& db, std::string_view witness);
void save_witness_submission(Database& db, const WitnessSubmission& s, TimeMs now);

// The size of the largest stored checkpoint; 0 when none.
std::int64_t latest_checkpoint_size(Database& db);

// The newest checkpoint with at least `quorum` cosignatures from `witnesses`.
struct WitnessedCheckpoint {
    std::int64_t id = 0;
    std::int64_t size = 0;
    TimeMs created_at = 0;
    std::string note;              // as signed, without the cosignatures
    std::int64_t witness_time = 0; // the oldest of the quorum's newest cosignature times
};
std::optional<WitnessedCheckpoint>
latest_witnessed(Database& db, const std::vector<std::string>& witnesses, std::int64_t quorum);

} // namespace lethe::store
