#include "store/import_staging.hpp"

#include "util/error.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <sys/file.h>

namespace lethe::store {
namespace {

// Rows per publishing transaction (each inserts a request, its erasures and its audit entry:
// about 40 ms of write lock for 1,000) and per discarding one. Every commit writes each page it
// changed to the WAL again, and the random-keyed indexes make that about one page per index per
// row: 500-row chunks wrote 7x the pages of a one-transaction import. Larger chunks write less
// but make the worker and the intake wait longer (bench/RESULTS.md, "Contention"). A larger WAL
// auto-checkpoint for the import alone does not help: the other connections' commits then do
// its checkpoints (intake p99 3.6 s).
constexpr int k_publish_chunk_rows = 1000;
constexpr int k_discard_chunk_rows = 5000;
// The pause after each chunk's commit, so that a writer waiting for the lock (polling every
// millisecond: database.cpp) takes it before the import's next chunk does.
constexpr TimeMs k_yield_ms = 2;
constexpr TimeMs k_lock_poll_ms = 1000;

std::filesystem::path lock_path(const Database& db) {
    return db.path().string() + "-import.lock";
}

UniqueFd open_lock_file(const Database& db) {
    const auto path = lock_path(db);
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
        throw DatabaseError(path.string() +
                            ": cannot open the import lock: " + std::strerror(errno));
    }
    return fd;
}

bool try_flock(const UniqueFd& fd) {
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
        return true;
    }
    if (errno != EWOULDBLOCK) {
        throw DatabaseError(std::string("cannot take the import lock: ") + std::strerror(errno));
    }
    return false;
}

void bind_optional(SQLite::Statement& q, int index, const std::string& text) {
    if (text.empty()) {
        q.bind(index);
    } else {
        q.bind(index, text);
    }
}

// Removes up to k_discard_chunk_rows of a batch's rows; the batch itself once none are left.
// Returns whether rows were left to remove.
bool discard_chunk(Database& db, std::int64_t batch) {
    SQLite::Transaction tx(db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement del(db.db(),
                          "DELETE FROM import_staging WHERE batch = ?1 AND seq IN (SELECT seq "
                          "FROM import_staging WHERE batch = ?1 ORDER BY seq LIMIT ?2)");
    del.bind(1, batch);
    del.bind(2, k_discard_chunk_rows);
    const bool removed = del.exec() > 0;
    if (!removed) {
        SQLite::Statement drop(db.db(), "DELETE FROM import_batches WHERE id = ?");
        drop.bind(1, batch);
        drop.exec();
    }
    tx.commit();
    return removed;
}

void discard_batch(Database& db, Sleeper& sleeper, std::int64_t batch) {
    while (retry_while_busy([&] { return discard_chunk(db, batch); })) {
        sleeper.sleep_ms(k_yield_ms);
    }
}

NewRequest read_staged(SQLite::Statement& q) {
    NewRequest r;
    r.request_id = q.getColumn(1).getString();
    r.identifier = std::string(column_bytes(q.getColumn(2)));
    r.identifier_sealed = true;
    r.id_type = q.getColumn(3).getString();
    r.subject_digest = q.getColumn(4).getString();
    r.source = q.getColumn(5).getString();
    r.received_at = q.getColumn(6).getInt64();
    r.received_at_given = q.getColumn(7).getInt() != 0;
    if (auto scope = column_text(q.getColumn(8))) {
        r.workspaces = scope_list(*scope);
    }
    r.legacy_digest = column_text(q.getColumn(9)).value_or("");
    r.legacy_request_id = column_text(q.getColumn(10)).value_or("");
    return r;
}

void count(PublishCounts& counts, const InsertResult& result, const NewRequest& r) {
    switch (result.outcome) {
    case InsertOutcome::created:
        ++counts.created;
        break;
    case InsertOutcome::linked:
        ++counts.linked;
        break;
    case InsertOutcome::known:
        ++counts.known;
        break;
    case InsertOutcome::conflict:
        counts.conflicts.push_back(r.source);
        break;
    }
}

void merge(PublishCounts& into, const PublishCounts& chunk) {
    into.created += chunk.created;
    into.linked += chunk.linked;
    into.known += chunk.known;
    into.conflicts.insert(into.conflicts.end(), chunk.conflicts.begin(), chunk.conflicts.end());
}

// Publishes the next chunk of `batch` into `counts` (counted only once committed); returns the
// rows it moved (0: the batch is gone).
std::int64_t publish_chunk(Database& db, const Clock& clock, std::int64_t batch,
                           const std::vector<std::string>& workspaces, PublishCounts& total) {
    PublishCounts counts;
    WriteBatch write(db, clock, workspaces);
    SQLite::Statement q(db.db(), "SELECT seq, request_id, identifier, id_type, subject_digest, "
                                 "source, received_at, received_at_given, workspaces, "
                                 "legacy_digest, legacy_request_id FROM import_staging WHERE "
                                 "batch = ? ORDER BY seq LIMIT ?");
    q.bind(1, batch);
    q.bind(2, k_publish_chunk_rows);
    std::vector<NewRequest> rows;
    std::int64_t last_seq = -1;
    while (q.executeStep()) {
        last_seq = q.getColumn(0).getInt64();
        rows.push_back(read_staged(q));
    }
    q.reset();
    if (rows.empty()) {
        SQLite::Statement drop(db.db(), "DELETE FROM import_batches WHERE id = ?");
        drop.bind(1, batch);
        drop.exec();
        write.commit();
        return 0;
    }
    for (const auto& r : rows) {
        count(counts, write.insert(r), r);
    }
    SQLite::Statement del(db.db(), "DELETE FROM import_staging WHERE batch = ? AND seq <= ?");
    del.bind(1, batch);
    del.bind(2, last_seq);
    del.exec();
    write.commit();
    merge(total, counts);
    return static_cast<std::int64_t>(rows.size());
}

} // namespace

ImportLock ImportLock::acquire(const Database& db, Sleeper& sleeper, TimeMs max_wait_ms,
                               const std::function<void()>& on_wait) {
    UniqueFd fd = open_lock_file(db);
    for (TimeMs waited = 0; !try_flock(fd); waited += k_lock_poll_ms) {
        if (waited >= max_wait_ms) {
            throw DatabaseError("another import held the import lock (" + lock_path(db).string() +
                                ") for " + std::to_string(max_wait_ms / 60'000) + " minutes");
        }
        if (waited == 0 && on_wait) {
            on_wait();
        }
        sleeper.sleep_ms(k_lock_poll_ms);
    }
    return ImportLock(std::move(fd));
}

namespace {

// True when a process holds the import lock: a shared lock is refused.
bool import_lock_held(const Database& db) {
    UniqueFd fd(::open(lock_path(db).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) {
        return false; // no import ever ran here
    }
    if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) {
        ::flock(fd.get(), LOCK_UN);
        return false;
    }
    return errno == EWOULDBLOCK;
}

} // namespace

ImportStatus import_status(Database& db) {
    ImportStatus out;
    out.running = import_lock_held(db);
    SQLite::Statement q(db.db(), "SELECT b.id, b.state, b.created_at, (SELECT count(*) FROM "
                                 "import_staging s WHERE s.batch = b.id) FROM import_batches b "
                                 "ORDER BY b.id");
    while (q.executeStep()) {
        out.batches.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString() == "committed",
                               q.getColumn(3).getInt64(), q.getColumn(2).getInt64()});
    }
    return out;
}

std::optional<ImportLock> ImportLock::try_acquire(const Database& db) {
    UniqueFd fd = open_lock_file(db);
    if (!try_flock(fd)) {
        return std::nullopt;
    }
    return ImportLock(std::move(fd));
}

ImportStager::ImportStager(Database& db, const Clock& clock, Sleeper& sleeper,
                           const ImportLock& /*held*/, std::function<void()> on_busy)
    : m_db(db), m_clock(clock), m_sleeper(sleeper), m_on_busy(std::move(on_busy)) {
    m_batch = retry_while_busy(
        [&] {
            SQLite::Transaction tx(db.db(), SQLite::TransactionBehavior::IMMEDIATE);
            SQLite::Statement open(
                db.db(), "INSERT INTO import_batches (state, created_at) VALUES ('staging', ?)");
            open.bind(1, clock.now_ms());
            open.exec();
            const std::int64_t id = db.db().getLastInsertRowid();
            tx.commit();
            return id;
        },
        m_on_busy);
    // Staged rows need no fsync of their own: nobody sees them, and the commit point's fsync
    // (synchronous=FULL again) makes every WAL frame before it durable too. Losing some to a
    // power cut before it loses an import that never happened.
    db.db().exec("PRAGMA synchronous=NORMAL");
}

ImportStager::~ImportStager() {
    if (!m_open) {
        return;
    }
    try {
        discard();
    } catch (const std::exception& e) {
        // Left for recover_imports(): a batch still staging never lands.
        spdlog::warn("import batch {} could not be discarded now ({}); the next import, run or "
                     "serve discards it",
                     m_batch, e.what());
    }
}

struct ImportStager::Statements {
    explicit Statements(SQLite::Database& db)
        : queued(db, "SELECT subject_digest, id_type, received_at, workspaces FROM requests "
                     "WHERE request_id = ?"),
          staged(db, "SELECT subject_digest, id_type, received_at, workspaces FROM "
                     "import_staging WHERE request_id = ?"),
          insert(db, "INSERT INTO import_staging (batch, seq, request_id, identifier, id_type, "
                     "subject_digest, source, received_at, received_at_given, workspaces, "
                     "legacy_digest, legacy_request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                     "?)") {}
    SQLite::Statement queued; // a request in the queue, by request_id
    SQLite::Statement staged; // a staged row, by request_id
    SQLite::Statement insert;
};

std::vector<StageOutcome> ImportStager::stage(const std::vector<NewRequest>& rows) {
    const std::int64_t first_seq = m_next_seq;
    auto outcomes = retry_while_busy(
        [&] {
            m_next_seq = first_seq; // a try that found the database busy was rolled back
            std::vector<StageOutcome> out;
            out.reserve(rows.size());
            SQLite::Transaction tx(m_db.db(), SQLite::TransactionBehavior::IMMEDIATE);
            Statements sql(m_db.db());
            for (const auto& r : rows) {
                out.push_back(stage_one(r, sql));
            }
            tx.commit();
            return out;
        },
        m_on_busy);
    m_sleeper.sleep_ms(k_yield_ms);
    return outcomes;
}

StageOutcome ImportStager::stage_one(const NewRequest& r, Statements& sql) {
    // The same checks as WriteBatch::insert, against the queue and against the rows staged
    // before this one (which publish_batch inserts before it).
    for (const std::string* id : {&r.request_id, &r.legacy_request_id}) {
        if (id->empty()) {
            continue;
        }
        for (SQLite::Statement* q : {&sql.queued, &sql.staged}) {
            q->reset();
            q->bind(1, *id);
            if (q->executeStep()) {
                const RequestKey stored{q->getColumn(0).getString(), q->getColumn(1).getString(),
                                        q->getColumn(2).getInt64(), column_text(q->getColumn(3))};
                return same_request(stored, r) ? StageOutcome::known : StageOutcome::conflict;
            }
        }
    }
    SQLite::Statement& insert = sql.insert;
    insert.reset();
    insert.bind(1, m_batch);
    insert.bind(2, m_next_seq++);
    insert.bind(3, r.request_id);
    bind_blob(insert, 4, m_db.cipher().seal_identifier(r.identifier, r.request_id));
    insert.bind(5, r.id_type);
    insert.bind(6, r.subject_digest);
    insert.bind(7, r.source);
    insert.bind(8, r.received_at);
    insert.bind(9, r.received_at_given ? 1 : 0);
    if (r.workspaces) {
        insert.bind(10, scope_text(*r.workspaces));
    } else {
        insert.bind(10);
    }
    bind_optional(insert, 11, r.legacy_digest);
    bind_optional(insert, 12, r.legacy_request_id);
    insert.exec();
    return StageOutcome::staged;
}

StagedForecast ImportStager::forecast() {
    // A person's first staged row is created unless the person has an active request; every
    // other row is linked. One pass over the batch, not an index per row (staging stays cheap).
    SQLite::Statement q(m_db.db(),
                        "SELECT count(*), (SELECT count(*) FROM import_staging WHERE batch = ?1) "
                        "FROM (SELECT DISTINCT subject_digest FROM import_staging WHERE batch = "
                        "?1) d WHERE NOT EXISTS (SELECT 1 FROM requests WHERE subject_digest = "
                        "d.subject_digest AND state IN ('pending', 'suppressed') AND linked_to IS "
                        "NULL)");
    q.bind(1, m_batch);
    q.executeStep();
    const std::int64_t created = q.getColumn(0).getInt64();
    return {created, q.getColumn(1).getInt64() - created};
}

void ImportStager::commit() {
    m_db.db().exec("PRAGMA synchronous=FULL");
    retry_while_busy(
        [&] {
            SQLite::Transaction tx(m_db.db(), SQLite::TransactionBehavior::IMMEDIATE);
            SQLite::Statement mark(m_db.db(), "UPDATE import_batches SET state = 'committed' "
                                              "WHERE id = ? AND state = 'staging'");
            mark.bind(1, m_batch);
            if (mark.exec() != 1) {
                throw std::logic_error("import batch " + std::to_string(m_batch) +
                                       " is not staging");
            }
            tx.commit();
            return 0;
        },
        m_on_busy);
    m_open = false;
}

void ImportStager::discard() {
    m_open = false;
    m_db.db().exec("PRAGMA synchronous=FULL");
    discard_batch(m_db, m_sleeper, m_batch);
}

PublishCounts publish_batch(Database& db, const Clock& clock, Sleeper& sleeper, std::int64_t batch,
                            const std::vector<std::string>& workspaces,
                            const std::function<void(std::int64_t)>& progress) {
    PublishCounts counts;
    std::int64_t done = 0;
    // A chunk that finds the database busy is rolled back and tried again.
    while (const std::int64_t moved = retry_while_busy(
               [&] { return publish_chunk(db, clock, batch, workspaces, counts); })) {
        done += moved;
        if (progress) {
            progress(done);
        }
        sleeper.sleep_ms(k_yield_ms);
    }
    return counts;
}

ImportRecovery recover_imports(Database& db, const Clock& clock, Sleeper& sleeper,
                               const ImportLock& /*held*/,
                               const std::vector<std::string>& workspaces) {
    struct Batch {
        std::int64_t id;
        bool committed;
    };
    std::vector<Batch> batches;
    SQLite::Statement q(db.db(), "SELECT id, state = 'committed' FROM import_batches ORDER BY id");
    while (q.executeStep()) {
        batches.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt() != 0});
    }
    q.reset();
    ImportRecovery report;
    for (const auto& b : batches) {
        if (!b.committed) {
            discard_batch(db, sleeper, b.id);
            ++report.discarded_batches;
            continue;
        }
        PublishCounts counts = publish_batch(db, clock, sleeper, b.id, workspaces);
        ++report.published_batches;
        report.published_rows += counts.created + counts.linked + counts.known +
                                 static_cast<std::int64_t>(counts.conflicts.size());
    }
    return report;
}

void recover_imports_if_idle(Database& db, const Clock& clock, Sleeper& sleeper,
                             const std::vector<std::string>& workspaces) {
    if (db.db().execAndGet("SELECT EXISTS (SELECT 1 FROM import_batches)").getInt() == 0) {
        return; // the usual case: no lock file touched
    }
    auto lock = ImportLock::try_acquire(db);
    if (!lock) {
        return; // an import is running: it finishes its own batch
    }
    const ImportRecovery r = recover_imports(db, clock, sleeper, *lock, workspaces);
    if (r.discarded_batches > 0) {
        spdlog::info("discarded {} import batch{} left by an import that stopped before its "
                     "commit point (nothing of it was imported)",
                     r.discarded_batches, r.discarded_batches == 1 ? "" : "es");
    }
    if (r.published_batches > 0) {
        spdlog::info("finished {} import{} that stopped after its commit point: {} rows "
                     "published",
                     r.published_batches, r.published_batches == 1 ? "" : "s", r.published_rows);
    }
}

} // namespace lethe::store
