#pragma once

#include "audit/cosignature.hpp"
#include "audit/note.hpp"
#include "util/clock.hpp"

#include <SQLiteCpp/Database.h>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

// `lethe witness serve`: a witness per C2SP tlog-witness. It cosigns a log's checkpoint only when
// it is consistent with the last checkpoint it cosigned for that origin, so a rewritten or forked
// log is refused (docs/audit-format.md, "Witnesses").
namespace lethe::witness {

// A log the witness follows: its origin and the key its checkpoints are signed with.
struct TrustedLog {
    std::string origin;
    audit::NoteVerifierKey key;
};

// Parses "ORIGIN=VKEY" (the `--log` argument). Throws lethe::ConfigError when malformed or the
// key's name is not the origin.
TrustedLog parse_trusted_log(std::string_view text);

// What the witness answers (the HTTP status and body of tlog-witness).
struct AddCheckpointReply {
    int status = 500;
    std::string body;
    std::string content_type = "text/plain; charset=utf-8";
};

// The witness's state of one log: the latest checkpoint it cosigned.
struct LogState {
    std::int64_t size = 0;
    std::string root_hex;
    std::int64_t cosigned_at = 0;
};

// The witness: its key, the logs it follows and its state in SQLite (one row per origin, and
// the refused submissions kept as evidence). Safe to call from several threads: the check of a
// submission and the update of the state happen under one lock and one transaction.
class Witness {
public:
    // Opens (creating) the state database. Throws SQLite::Exception.
    Witness(const std::filesystem::path& db_path, audit::WitnessKey key,
            std::vector<TrustedLog> logs, const Clock& clock);

    // Handles an add-checkpoint body: verifies the checkpoint's signature, the old size and the
    // consistency proof, then records and cosigns it.
    AddCheckpointReply add_checkpoint(std::string_view body);

    // The recorded state of `origin`, if the witness has cosigned one of its checkpoints.
    std::optional<LogState> state(std::string_view origin);

    const audit::WitnessKey& key() const { return m_key; }

private:
    struct Submission;
    AddCheckpointReply check_and_cosign(const Submission& s);
    void record_refusal(const Submission& s, int status, std::string_view why);

    SQLite::Database m_db;
    audit::WitnessKey m_key;
    std::vector<TrustedLog> m_logs;
    const Clock& m_clock;
    std::mutex m_mutex;
};

} // namespace lethe::witness
