#include "serve/group_commit.hpp"

#include <algorithm>

namespace lethe::serve {

GroupCommitSink::GroupCommitSink(BatchAdmitter& admitter, std::size_t max_batch)
    : m_admitter(admitter), m_max_batch(std::max<std::size_t>(max_batch, 1)) {
}

Admitted GroupCommitSink::admit(const intake::RawRequest& raw, const SenderIdentity& sender) {
    Waiting me;
    me.submission = {&raw, &sender};
    std::unique_lock lock(m_mutex);
    m_queue.push_back(&me);
    while (!me.done) {
        if (m_committing) {
            me.cv.wait(lock); // woken when done, or when handed the next commit
            continue;
        }
        // This thread commits the oldest queued requests (its own among them, or it comes
        // round again).
        m_committing = true;
        const std::size_t n = std::min(m_queue.size(), m_max_batch);
        std::vector<Waiting*> batch(m_queue.begin(), m_queue.begin() + n);
        m_queue.erase(m_queue.begin(), m_queue.begin() + n);
        lock.unlock();
        commit(batch);
        lock.lock();
        m_committing = false;
        for (Waiting* w : batch) {
            w->done = true;
            if (w != &me) {
                w->cv.notify_one();
            }
        }
        if (!m_queue.empty()) {
            m_queue.front()->cv.notify_one(); // the next commit is the oldest caller's
        }
    }
    if (me.error) {
        std::rethrow_exception(me.error);
    }
    return me.result;
}

void GroupCommitSink::commit(std::vector<Waiting*>& batch) {
    std::vector<Submission> submissions;
    submissions.reserve(batch.size());
    for (const Waiting* w : batch) {
        submissions.push_back(w->submission);
    }
    try {
        std::vector<Admitted> results = m_admitter.admit_all(submissions);
        for (std::size_t i = 0; i < batch.size(); ++i) {
            batch[i]->result = i < results.size() ? std::move(results[i]) : Admitted{};
        }
    } catch (...) {
        const std::exception_ptr error = std::current_exception();
        for (Waiting* w : batch) {
            w->error = error;
        }
    }
}

} // namespace lethe::serve
