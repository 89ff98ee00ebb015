#pragma once

#include "store/database.hpp"

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

namespace lethe::store {

// What a scrub of the WAL achieved.
enum class ScrubOutcome {
    truncated, // every frame was copied into the database file and the WAL cut to 0 bytes
    busy,      // a reader or writer kept it from finishing; the next scrub tries again
};

// Copies every WAL frame into the database file and truncates the WAL to zero bytes
// (PRAGMA wal_checkpoint(TRUNCATE)). Old frames hold old versions of rows, the raw identifier of
// a request that is `done` since among them: secure_delete zeroes the database file's free space
// but never touches the WAL, and SQLite otherwise reuses the WAL file without cutting it, so
// those bytes would stay on disk for as long as any connection keeps the database open.
ScrubOutcome scrub_wal(Database& db);

// Scrubs the WAL every `interval` on a connection of its own, for as long as it lives (`lethe run`
// and `lethe serve` keep the database open for days). Invariant 10: an erased identifier is gone
// from the WAL within about one interval after its request is done, or a warning says which
// connection kept it.
class WalScrubber {
public:
    WalScrubber(const std::filesystem::path& db_path, std::chrono::milliseconds interval);
    ~WalScrubber(); // stops the thread after one last scrub
    WalScrubber(const WalScrubber&) = delete;
    WalScrubber& operator=(const WalScrubber&) = delete;

private:
    void loop();
    void scrub_logged();

    Database m_db;
    std::chrono::milliseconds m_interval;
    int m_busy_in_a_row = 0;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stopping = false;
    std::thread m_thread;
};

} // namespace lethe::store
