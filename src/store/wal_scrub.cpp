#include "store/wal_scrub.hpp"

#include <spdlog/spdlog.h>

namespace lethe::store {
namespace {

// After this many busy scrubs in a row (a long read transaction somewhere) the log says so once.
constexpr int k_busy_warning_after = 6;
// A TRUNCATE checkpoint holds the write lock while it waits for readers: writers on other
// connections (the intake) wait at most about this long for it, then it gives up until the next
// interval.
constexpr int k_scrub_busy_timeout_ms = 1'000;

} // namespace

ScrubOutcome scrub_wal(Database& db) {
    // One row: busy (1 when it could not finish), frames in the WAL, frames checkpointed.
    SQLite::Statement checkpoint(db.db(), "PRAGMA wal_checkpoint(TRUNCATE)");
    if (!checkpoint.executeStep() || checkpoint.getColumn(0).getInt() != 0) {
        return ScrubOutcome::busy;
    }
    return ScrubOutcome::truncated;
}

WalScrubber::WalScrubber(const std::filesystem::path& db_path, std::chrono::milliseconds interval)
    : m_db(db_path, OpenMode::existing), m_interval(interval) {
    m_db.db().setBusyTimeout(k_scrub_busy_timeout_ms);
    m_thread = std::thread([this] { loop(); });
}

WalScrubber::~WalScrubber() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

void WalScrubber::loop() {
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        m_wake.wait_for(lock, m_interval, [this] { return m_stopping; });
        lock.unlock();
        scrub_logged();
        lock.lock();
    }
}

void WalScrubber::scrub_logged() {
    try {
        if (scrub_wal(m_db) == ScrubOutcome::truncated) {
            m_busy_in_a_row = 0;
            return;
        }
        if (++m_busy_in_a_row == k_busy_warning_after) {
            spdlog::warn("{}: the WAL could not be truncated for {} scrubs in a row: a long read "
                         "transaction on another connection keeps old rows (and erased "
                         "identifiers) in it",
                         m_db.path().string(), k_busy_warning_after);
        }
    } catch (const SQLite::Exception& e) {
        // A locked or full database is transient here: the next scrub tries again.
        spdlog::debug("{}: WAL scrub failed: {}", m_db.path().string(), e.what());
    }
}

} // namespace lethe::store
