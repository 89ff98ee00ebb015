#include "witness/witness.hpp"

#include "audit/checkpoint.hpp"
#include "crypto/merkle.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <optional>

namespace lethe::witness {
namespace {

// tlog-witness: a client sends at most 63 consistency proof lines.
constexpr std::size_t k_max_proof_lines = 63;
// Refused submissions kept as evidence of a log's misbehaviour, newest first.
constexpr std::int64_t k_kept_refusals = 10'000;

constexpr const char* k_schema = R"sql(
CREATE TABLE IF NOT EXISTS witness_logs (
    origin      TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    root_hash   TEXT    NOT NULL,   -- hex
    note        TEXT    NOT NULL,   -- the checkpoint as submitted
    cosigned_at INTEGER NOT NULL    -- POSIX seconds
);
CREATE TABLE IF NOT EXISTS witness_refusals (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    origin    TEXT    NOT NULL,
    status    INTEGER NOT NULL,
    old_size  INTEGER NOT NULL,
    size      INTEGER NOT NULL,
    reason    TEXT    NOT NULL,
    note      TEXT    NOT NULL
);
)sql";

AddCheckpointReply reply(int status, std::string body) {
    return AddCheckpointReply{status, std::move(body) + "\n", "text/plain; charset=utf-8"};
}

} // namespace

// A parsed add-checkpoint body.
struct Witness::Submission {
    std::int64_t old_size = 0;
    std::vector<std::string> proof; // raw 32-byte hashes
    std::string note;
    audit::ParsedNote parsed;
    audit::Checkpoint checkpoint;
    std::string root_hex; // the third line (the Merkle root)
    const TrustedLog* log = nullptr;
};

TrustedLog parse_trusted_log(std::string_view text) {
    const auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        throw ConfigError("--log: expected ORIGIN=VKEY");
    }
    std::string error;
    auto key = audit::parse_verifier_key(text.substr(eq + 1), error);
    if (!key) {
        throw ConfigError("--log " + std::string(text.substr(0, eq)) + ": " + error);
    }
    if (key->name != text.substr(0, eq)) {
        throw ConfigError("--log " + std::string(text.substr(0, eq)) +
                          ": the key's name is not the origin");
    }
    return TrustedLog{std::string(text.substr(0, eq)), std::move(*key)};
}

Witness::Witness(const std::filesystem::path& db_path, audit::WitnessKey key,
                 std::vector<TrustedLog> logs, const Clock& clock)
    : m_db(db_path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE), m_key(std::move(key)),
      m_logs(std::move(logs)), m_clock(clock) {
    m_db.exec("PRAGMA journal_mode=WAL");
    m_db.exec("PRAGMA synchronous=FULL"); // a cosigned state must survive a power cut
    m_db.exec(k_schema);
}

AddCheckpointReply Witness::add_checkpoint(std::string_view body) {
    Submission s;
    // "old N\n", proof lines, "\n", then the note.
    auto next_line = [&body](std::string_view& line) {
        const auto eol = body.find('\n');
        if (eol == std::string_view::npos) {
            return false;
        }
        line = body.substr(0, eol);
        body.remove_prefix(eol + 1);
        return true;
    };
    std::string_view line;
    if (!next_line(line) || !line.starts_with("old ")) {
        return reply(400, "the body does not start with an old size line");
    }
    const std::string_view old_text = line.substr(4);
    const auto old_size = parse_int64(old_text);
    if (!old_size || *old_size < 0 || (old_text.size() > 1 && old_text[0] == '0')) {
        return reply(400, "the old size is not a decimal number without leading zeros");
    }
    s.old_size = *old_size;
    while (true) {
        if (!next_line(line)) {
            return reply(400, "the body has no empty line before the checkpoint");
        }
        if (line.empty()) {
            break;
        }
        std::string raw;
        if (s.proof.size() == k_max_proof_lines || !crypto::base64_decode(line, raw) ||
            raw.size() != crypto::k_sha256_size) {
            return reply(400, "a consistency proof line is not one Base64 hash (or more than 63)");
        }
        s.proof.push_back(std::move(raw));
    }
    s.note = std::string(body);
    std::string error;
    auto parsed = audit::parse_note(s.note, error);
    auto cp = parsed ? audit::parse_checkpoint_text(parsed->text, error) : std::nullopt;
    if (!cp) {
        return reply(400, "the checkpoint is malformed: " + error);
    }
    s.parsed = std::move(*parsed);
    s.checkpoint = std::move(*cp);
    // The third line is the Merkle root (a note without a chain-head line parses as "legacy",
    // its third line then read into head_hash).
    s.root_hex = s.checkpoint.legacy() ? s.checkpoint.head_hash : s.checkpoint.root_hash;
    for (const auto& log : m_logs) {
        if (log.origin == s.checkpoint.origin) {
            s.log = &log;
        }
    }
    if (s.log == nullptr) {
        return reply(404, "unknown log origin");
    }
    if (audit::check_note(s.parsed, s.log->key) != audit::NoteCheck::ok) {
        return reply(403, "the checkpoint is not signed by the log's key");
    }
    if (s.old_size > s.checkpoint.size) {
        return reply(400, "the old size is larger than the checkpoint's");
    }
    if (s.old_size == 0 && !s.proof.empty()) {
        return reply(400, "a consistency proof from size 0 must be empty");
    }
    std::lock_guard lock(m_mutex);
    return check_and_cosign(s);
}

AddCheckpointReply Witness::check_and_cosign(const Submission& s) {
    SQLite::Transaction txn(m_db, SQLite::TransactionBehavior::IMMEDIATE);
    const auto known = state(s.checkpoint.origin);
    const std::int64_t known_size = known ? known->size : 0;
    if (s.old_size != known_size) {
        // Not a refusal of the log: the client learns the size it must prove from.
        return AddCheckpointReply{409, std::to_string(known_size) + "\n", "text/x.tlog.size"};
    }
    if (known && s.checkpoint.size == known->size && s.root_hex != known->root_hex) {
        record_refusal(s, 409, "same size, different root: the log forked");
        txn.commit();
        return reply(409,
                     "the checkpoint has the size of the one cosigned before but another root");
    }
    if (known && s.checkpoint.size > known->size &&
        !crypto::merkle::verify_consistency(known->size, s.checkpoint.size,
                                            *from_hex(known->root_hex), *from_hex(s.root_hex),
                                            s.proof)) {
        record_refusal(s, 422, "the consistency proof does not verify");
        txn.commit();
        return reply(422, "the consistency proof does not verify: the log was rewritten");
    }
    const std::int64_t now = m_clock.now_ms() / 1000;
    SQLite::Statement put(m_db, "INSERT INTO witness_logs (origin, size, root_hash, note, "
                                "cosigned_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(origin) DO "
                                "UPDATE SET size = excluded.size, root_hash = excluded.root_hash, "
                                "note = excluded.note, cosigned_at = excluded.cosigned_at");
    put.bind(1, s.checkpoint.origin);
    put.bind(2, s.checkpoint.size);
    put.bind(3, s.root_hex);
    put.bind(4, s.note);
    put.bind(5, now);
    put.exec();
    txn.commit(); // persisted before the cosignature is returned
    return AddCheckpointReply{200, audit::cosign(s.parsed.text, m_key, now),
                              "text/plain; charset=utf-8"};
}

void Witness::record_refusal(const Submission& s, int status, std::string_view why) {
    SQLite::Statement ins(m_db, "INSERT INTO witness_refusals (at, origin, status, old_size, size, "
                                "reason, note) VALUES (?, ?, ?, ?, ?, ?, ?)");
    ins.bind(1, m_clock.now_ms() / 1000);
    ins.bind(2, s.checkpoint.origin);
    ins.bind(3, status);
    ins.bind(4, s.old_size);
    ins.bind(5, s.checkpoint.size);
    ins.bind(6, std::string(why));
    ins.bind(7, s.note);
    ins.exec();
    SQLite::Statement prune(m_db, "DELETE FROM witness_refusals WHERE id <= "
                                  "(SELECT MAX(id) FROM witness_refusals) - ?");
    prune.bind(1, k_kept_refusals);
    prune.exec();
}

std::optional<LogState> Witness::state(std::string_view origin) {
    SQLite::Statement q(m_db,
                        "SELECT size, root_hash, cosigned_at FROM witness_logs WHERE origin = ?");
    q.bind(1, std::string(origin));
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return LogState{q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                    q.getColumn(2).getInt64()};
}

} // namespace lethe::witness
