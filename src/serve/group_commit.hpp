#pragma once

#include "serve/intake_handler.hpp"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <vector>

namespace lethe::serve {

// One request waiting to be admitted with others.
struct Submission {
    const intake::RawRequest* raw = nullptr;
    const SenderIdentity* sender = nullptr;
};

// Admits several requests in one transaction.
class BatchAdmitter {
public:
    virtual ~BatchAdmitter() = default;
    // Validates and stores every submission with its audit entry in one transaction, committed
    // before it returns; one result per submission, in order. A refused submission writes
    // nothing (the others still land). Throws when the database cannot take them: then none
    // was stored.
    virtual std::vector<Admitted> admit_all(const std::vector<Submission>& batch) = 0;
};

// Group commit: requests that arrive while a commit is in progress are admitted together in the
// next transaction, so that a burst pays one fsync instead of one per request. Each caller
// returns only once its own request is committed (or has failed with the whole batch). A
// request alone commits at once: nothing waits for a batch to fill.
class GroupCommitSink final : public RequestSink {
public:
    explicit GroupCommitSink(BatchAdmitter& admitter, std::size_t max_batch = 512);
    // Queues the request; the first caller to find no commit running commits the queue (its own
    // request included), wakes the batch's callers and hands the next commit to the oldest
    // caller still queued. Rethrows the batch's exception.
    Admitted admit(const intake::RawRequest& raw, const SenderIdentity& sender) override;

private:
    struct Waiting {
        Submission submission;
        Admitted result;
        std::exception_ptr error;
        bool done = false;
        // Each caller waits on its own: waking all of them after every commit cost the 2-core
        // intake a context switch per waiting connection per batch (bench/RESULTS.md).
        std::condition_variable cv;
    };
    void commit(std::vector<Waiting*>& batch);

    BatchAdmitter& m_admitter;
    std::size_t m_max_batch;
    std::mutex m_mutex;
    std::deque<Waiting*> m_queue;
    bool m_committing = false;
};

} // namespace lethe::serve
