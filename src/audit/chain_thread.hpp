#pragma once

#include "audit/chain.hpp"
#include "store/audit_log.hpp"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace lethe::audit {

// Runs a ChainVerifier on a second thread while the caller goes on with the entries (an export
// formats and writes them): hashing every entry and its Merkle leaf is a third of an export's
// work, and it needs nothing from the database. Entries are copied into a few batches that are
// handed back and forth and reused, so memory stays flat whatever the log's size.
//
// The verifier is checked in the order the entries were added; the caller must not touch it
// until finish() has returned.
class ChainCheckThread {
public:
    explicit ChainCheckThread(ChainVerifier& chain);
    ChainCheckThread(const ChainCheckThread&) = delete;
    ChainCheckThread& operator=(const ChainCheckThread&) = delete;
    // Stops the thread without finishing (the caller failed on its own side).
    ~ChainCheckThread();

    // Copies `e` for checking. Returns false once the verifier has found a problem, so the caller
    // can stop early (finish() then reports it).
    bool add(const store::AuditEntryView& e);
    // Checks the entries still queued and stops the thread; the verifier is the caller's again
    // (its finish() and failure() tell the outcome). Rethrows what the verifier threw.
    void finish();

private:
    struct Batch {
        std::vector<store::AuditEntry> entries; // reused: their strings keep their capacity
        std::size_t used = 0;
    };

    void run();
    void hand_over_current();

    ChainVerifier& m_chain;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::vector<Batch> m_free;          // empty batches for the caller to fill
    std::deque<Batch> m_queued;         // filled batches, oldest first, for the thread to check
    Batch m_current;                    // the batch the caller is filling
    bool m_closed = false;              // no more batches will be queued
    std::atomic<bool> m_failed = false; // the verifier found a problem or threw
    std::exception_ptr m_error;
    std::thread m_thread;
};

} // namespace lethe::audit
