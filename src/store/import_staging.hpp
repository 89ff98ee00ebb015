#pragma once

#include "store/database.hpp"
#include "store/requests.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

// Imports in chunks: all or nothing without holding the write lock for the whole import.
//
// An import stages its validated rows in short transactions (import_staging), each checked
// against the queue and the rows staged before it. Its commit point is one small transaction
// that marks the batch committed: before it, a failed or killed import left nothing but staged
// rows, which are discarded; after it, the import will land. Publishing then moves the rows into
// the queue in short transactions, each row with its request.received entry, exactly as a
// one-transaction import would have inserted them (WriteBatch). Between chunks the write lock is
// free, so the worker and the intake go on (migrations/0006_import_staging.sql).
//
// One import runs at a time (ImportLock); the process holding the lock also finishes what a
// killed import left (recover_imports).
namespace lethe::store {

// Rows per staging transaction, for the caller's buffer (about 30 ms of write lock each).
constexpr std::size_t k_stage_chunk_rows = 1000;

// The import lock: flock(2) on "<database>-import.lock", held for an import's whole run. A lock
// held by a dead process is released by the kernel, so a stale batch is always recoverable.
class ImportLock {
public:
    // Takes the lock. While another process holds it, calls `on_wait` once and polls every
    // second for up to `max_wait_ms`; then throws lethe::DatabaseError.
    static ImportLock acquire(const Database& db, Sleeper& sleeper, TimeMs max_wait_ms,
                              const std::function<void()>& on_wait);
    // The lock if no other process holds it, else nullopt.
    static std::optional<ImportLock> try_acquire(const Database& db);

private:
    explicit ImportLock(UniqueFd fd) : m_fd(std::move(fd)) {}
    UniqueFd m_fd;
};

// What staging a row found.
enum class StageOutcome {
    staged,   // a new request (or one linked to an active request for the same person)
    known,    // the same request is already queued or staged: not staged again
    conflict, // its request_id is queued or staged with other content: refused
};

// How the staged rows would land if published now (for a dry run's receipt).
struct StagedForecast {
    std::int64_t created = 0; // one per person with no active request
    std::int64_t linked = 0;  // the others: linked to the first request for their person
};

// Stages one import's rows. The batch is discarded on destruction unless committed.
class ImportStager {
public:
    // Opens a new batch (a short transaction). Needs the ImportLock. Every transaction waits
    // while the database is busy (retry_while_busy), calling `on_busy` when a wait begins.
    ImportStager(Database& db, const Clock& clock, Sleeper& sleeper, const ImportLock& lock,
                 std::function<void()> on_busy = {});
    ~ImportStager();
    ImportStager(const ImportStager&) = delete;
    ImportStager& operator=(const ImportStager&) = delete;

    // Stages `rows` in one transaction; returns each row's outcome, in order.
    std::vector<StageOutcome> stage(const std::vector<NewRequest>& rows);
    // Counts how the staged rows would land now (one read over the batch; no write lock).
    StagedForecast forecast();
    // The commit point: after it, the import will land (publish_batch, or recover_imports after
    // a crash).
    void commit();
    // Removes the batch and its rows (in short transactions).
    void discard();
    std::int64_t batch() const { return m_batch; }

private:
    struct Statements; // prepared once per stage()
    StageOutcome stage_one(const NewRequest& r, Statements& sql);

    Database& m_db;
    const Clock& m_clock;
    Sleeper& m_sleeper;
    std::function<void()> m_on_busy;
    std::int64_t m_batch = 0;
    std::int64_t m_next_seq = 0;
    bool m_open = true; // neither committed nor discarded
};

// What publishing a batch did.
struct PublishCounts {
    std::int64_t created = 0;
    std::int64_t linked = 0;
    std::int64_t known = 0;
    // Rows whose request_id a request admitted between staging and publishing took with other
    // content (the intake refuses that, so only a pre-v2 legacy request_id can): not imported.
    std::vector<std::string> conflicts; // their sources ("file.csv:12")
};

// Moves a committed batch's rows into the queue in short transactions, in staging order, and
// removes the batch. `progress` (optional) is told the rows done after each chunk. Throws
// SQLite::Exception on database failure: the batch stays committed, and the next call (or
// recover_imports) goes on where this one stopped.
PublishCounts publish_batch(Database& db, const Clock& clock, Sleeper& sleeper, std::int64_t batch,
                            const std::vector<std::string>& workspaces,
                            const std::function<void(std::int64_t)>& progress = {});

// What recover_imports() found.
struct ImportRecovery {
    std::int64_t discarded_batches = 0; // killed before their commit point
    std::int64_t published_batches = 0; // killed after it: published now
    std::int64_t published_rows = 0;
};

// Finishes what killed imports left: batches still staging are discarded, committed ones
// published. Needs the ImportLock. Cheap when there is nothing to do.
ImportRecovery recover_imports(Database& db, const Clock& clock, Sleeper& sleeper,
                               const ImportLock& lock, const std::vector<std::string>& workspaces);

// One import batch as `lethe status` shows it.
struct ImportBatchStatus {
    std::int64_t batch = 0;
    bool committed = false; // past its commit point: being published (or left to be)
    std::int64_t rows = 0;  // staged and not yet published
    TimeMs started_at = 0;
};

// The imports in the database: their batches, and whether an import holds the lock now. Batches
// without a running import were left by a killed one; the next import, run or serve finishes
// them (recover_imports). Reads only; the lock is tested with a shared flock(2) taken and
// released at once, and the lock file is never created.
struct ImportStatus {
    bool running = false;
    std::vector<ImportBatchStatus> batches;
};
ImportStatus import_status(Database& db);

// For `run` and `serve` at start: recover_imports() if no import is running (one that is
// finishes its own batch), logging what it did.
void recover_imports_if_idle(Database& db, const Clock& clock, Sleeper& sleeper,
                             const std::vector<std::string>& workspaces);

} // namespace lethe::store
