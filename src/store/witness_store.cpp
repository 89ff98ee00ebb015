#include "store/witness_store.hpp"

#include <SQLiteCpp/Statement.h>
#include <algorithm>
#include <set>

namespace lethe::store {

std::vector<StoredCosignature> cosignatures_of(Database& db, std::int64_t checkpoint_id) {
    SQLite::Statement q(db.db(), "SELECT witness, line, witness_time FROM witness_cosignatures "
                                 "WHERE checkpoint_id = ? ORDER BY witness");
    q.bind(1, checkpoint_id);
    std::vector<StoredCosignature> out;
    while (q.executeStep()) {
        out.push_back(StoredCosignature{q.getColumn(0).getString(), q.getColumn(1).getString(),
                                        q.getColumn(2).getInt64()});
    }
    return out;
}

std::string note_with_cosignatures(Database& db, std::int64_t checkpoint_id, std::string note) {
    for (const auto& c : cosignatures_of(db, checkpoint_id)) {
        note += c.line;
    }
    return note;
}

void insert_cosignature(Database& db, std::int64_t checkpoint_id, const StoredCosignature& c,
                        TimeMs received_at) {
    SQLite::Statement q(db.db(),
                        "INSERT OR IGNORE INTO witness_cosignatures (checkpoint_id, "
                        "witness, line, witness_time, received_at) VALUES (?, ?, ?, ?, ?)");
    q.bind(1, checkpoint_id);
    q.bind(2, c.witness);
    q.bind(3, c.line);
    q.bind(4, c.witness_time);
    q.bind(5, received_at);
    q.exec();
}

std::int64_t largest_cosigned_size(Database& db, std::string_view witness) {
    SQLite::Statement q(db.db(),
                        "SELECT COALESCE(MAX(c.size), 0) FROM witness_cosignatures w "
                        "JOIN checkpoints c ON c.id = w.checkpoint_id WHERE w.witness = ?");
    q.bind(1, std::string(witness));
    q.executeStep();
    return q.getColumn(0).getInt64();
}

std::optional<WitnessSubmission> witness_submission(Database& db, std::string_view witness) {
    SQLite::Statement q(db.db(), "SELECT witness_size, attempts, next_attempt_at, last_error "
                                 "FROM witness_submissions WHERE witness = ?");
    q.bind(1, std::string(witness));
    if (!q.executeStep()) {
        return std::nullopt;
    }
    WitnessSubmission s;
    s.witness = witness;
    if (!q.getColumn(0).isNull()) {
        s.witness_size = q.getColumn(0).getInt64();
    }
    s.attempts = q.getColumn(1).getInt64();
    s.next_attempt_at = q.getColumn(2).getInt64();
    s.last_error = q.getColumn(3).isNull() ? "" : q.getColumn(3).getString();
    return s;
}

void save_witness_submission(Database& db, const WitnessSubmission& s, TimeMs now) {
    SQLite::Statement q(db.db(),
                        "INSERT INTO witness_submissions (witness, witness_size, attempts, "
                        "next_attempt_at, last_error, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT(witness) DO UPDATE SET witness_size = excluded.witness_size, "
                        "attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at, "
                        "last_error = excluded.last_error, updated_at = excluded.updated_at");
    q.bind(1, s.witness);
    if (s.witness_size) {
        q.bind(2, *s.witness_size);
    } else {
        q.bind(2);
    }
    q.bind(3, s.attempts);
    q.bind(4, s.next_attempt_at);
    if (s.last_error.empty()) {
        q.bind(5);
    } else {
        q.bind(5, s.last_error);
    }
    q.bind(6, now);
    q.exec();
}

std::int64_t latest_checkpoint_size(Database& db) {
    return db.db().execAndGet("SELECT COALESCE(MAX(size), 0) FROM checkpoints").getInt64();
}

std::optional<WitnessedCheckpoint>
latest_witnessed(Database& db, const std::vector<std::string>& witnesses, std::int64_t quorum) {
    if (quorum <= 0) {
        return std::nullopt;
    }
    const std::set<std::string> names(witnesses.begin(), witnesses.end());
    // Newest first; few checkpoints carry cosignatures, so the first with a quorum is found fast.
    SQLite::Statement q(db.db(),
                        "SELECT c.id, c.size, c.created_at, w.witness, w.witness_time, c.note "
                        "FROM checkpoints c JOIN witness_cosignatures w ON "
                        "w.checkpoint_id = c.id ORDER BY c.size DESC, c.id DESC");
    std::optional<WitnessedCheckpoint> current;
    std::vector<std::int64_t> times;
    auto quorum_met = [&] {
        return static_cast<std::int64_t>(times.size()) >= quorum;
    };
    while (q.executeStep()) {
        const std::int64_t id = q.getColumn(0).getInt64();
        if (current && current->id != id) {
            if (quorum_met()) {
                break;
            }
            current.reset();
            times.clear();
        }
        if (!current) {
            current = WitnessedCheckpoint{id, q.getColumn(1).getInt64(), q.getColumn(2).getInt64(),
                                          q.getColumn(5).getString(), 0};
        }
        if (names.count(q.getColumn(3).getString()) != 0) {
            times.push_back(q.getColumn(4).getInt64());
        }
    }
    if (!current || !quorum_met()) {
        return std::nullopt;
    }
    // The checkpoint became witnessed when the quorum-th cosignature arrived.
    std::sort(times.begin(), times.end());
    current->witness_time = times[static_cast<std::size_t>(quorum - 1)];
    return current;
}

} // namespace lethe::store
