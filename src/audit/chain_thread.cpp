#include "audit/chain_thread.hpp"

#include <utility>

namespace lethe::audit {
namespace {

// Entries per batch and batches in flight: a few MiB at most, and few enough hand-overs that
// the locking is noise next to the hashing.
constexpr std::size_t k_batch_entries = 2048;
constexpr std::size_t k_batches = 3;

void copy_into(store::AuditEntry& to, const store::AuditEntryView& from) {
    to.seq = from.seq;
    to.at.assign(from.at);
    to.event.assign(from.event);
    to.request_ref.assign(from.request_ref);
    to.subject_digest.assign(from.subject_digest);
    to.detail.assign(from.detail);
    to.prev_hash.assign(from.prev_hash);
    to.hash.assign(from.hash);
}

} // namespace

ChainCheckThread::ChainCheckThread(ChainVerifier& chain) : m_chain(chain) {
    m_current.entries.resize(k_batch_entries);
    for (std::size_t i = 1; i < k_batches; ++i) {
        m_free.push_back(Batch{std::vector<store::AuditEntry>(k_batch_entries), 0});
    }
    m_thread = std::thread([this] { run(); });
}

ChainCheckThread::~ChainCheckThread() {
    if (m_thread.joinable()) {
        {
            std::lock_guard lock(m_mutex);
            m_closed = true;
            m_failed = true; // nothing more is checked
        }
        m_changed.notify_all();
        m_thread.join();
    }
}

bool ChainCheckThread::add(const store::AuditEntryView& e) {
    copy_into(m_current.entries[m_current.used++], e);
    if (m_current.used == m_current.entries.size()) {
        hand_over_current();
    }
    return !m_failed;
}

void ChainCheckThread::hand_over_current() {
    std::unique_lock lock(m_mutex);
    m_queued.push_back(std::move(m_current));
    m_changed.notify_all();
    m_changed.wait(lock, [&] { return !m_free.empty(); });
    m_current = std::move(m_free.back());
    m_free.pop_back();
    m_current.used = 0;
}

void ChainCheckThread::finish() {
    {
        std::lock_guard lock(m_mutex);
        if (m_current.used > 0) {
            m_queued.push_back(std::move(m_current));
        }
        m_closed = true;
    }
    m_changed.notify_all();
    m_thread.join();
    if (m_error) {
        std::rethrow_exception(m_error);
    }
}

void ChainCheckThread::run() {
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_changed.wait(lock, [&] { return !m_queued.empty() || m_closed; });
        if (m_queued.empty()) {
            return; // closed, and everything queued was checked
        }
        Batch batch = std::move(m_queued.front());
        m_queued.pop_front();
        const bool skip = m_failed;
        lock.unlock();
        bool ok = true;
        std::exception_ptr error;
        try {
            for (std::size_t i = 0; ok && !skip && i < batch.used; ++i) {
                ok = m_chain.add(store::view_of(batch.entries[i]));
            }
        } catch (...) {
            ok = false;
            error = std::current_exception();
        }
        lock.lock();
        if (!ok) {
            m_failed = true;
            m_error = error;
        }
        batch.used = 0;
        m_free.push_back(std::move(batch));
        m_changed.notify_all();
    }
}

} // namespace lethe::audit
