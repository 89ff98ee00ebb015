#include "serve/group_commit.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <stdexcept>
#include <thread>

using namespace lethe;
using namespace lethe::serve;

namespace {

// Records each batch; the first batch is held until released, so that others queue behind it.
class HeldAdmitter final : public BatchAdmitter {
public:
    std::vector<Admitted> admit_all(const std::vector<Submission>& batch) override {
        std::unique_lock lock(m_mutex);
        m_batches.push_back(batch.size());
        m_cv.notify_all();
        if (m_batches.size() == 1) {
            m_cv.wait(lock, [this] { return m_released; });
        }
        if (fail_next) {
            fail_next = false;
            throw std::runtime_error("disk full");
        }
        std::vector<Admitted> out;
        for (const auto& s : batch) {
            Admitted a;
            a.outcome = Admitted::Outcome::created;
            a.request_id = s.raw->request_id;
            a.reason = s.sender->name;
            out.push_back(a);
        }
        return out;
    }
    void wait_for_batches(std::size_t n) {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return m_batches.size() >= n; });
    }
    void release() {
        std::lock_guard lock(m_mutex);
        m_released = true;
        m_cv.notify_all();
    }
    std::vector<std::size_t> batches() {
        std::lock_guard lock(m_mutex);
        return m_batches;
    }
    bool fail_next = false;

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<std::size_t> m_batches;
    bool m_released = false;
};

} // namespace

TEST_CASE("requests arriving during a commit are committed together, each answered with its "
          "own result",
          "[serve][group-commit]") {
    HeldAdmitter admitter;
    GroupCommitSink sink(admitter);
    SenderIdentity portal{"portal", 3, false};
    std::vector<intake::RawRequest> raws(9);
    for (std::size_t i = 0; i < raws.size(); ++i) {
        raws[i].request_id = "R" + std::to_string(i);
    }
    std::vector<Admitted> results(raws.size());
    std::vector<std::thread> threads;
    threads.emplace_back([&] { results[0] = sink.admit(raws[0], portal); });
    admitter.wait_for_batches(1); // R0 is being committed
    for (std::size_t i = 1; i < raws.size(); ++i) {
        threads.emplace_back([&, i] { results[i] = sink.admit(raws[i], portal); });
    }
    // Let the eight others queue behind the commit in progress.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    admitter.release();
    for (auto& t : threads) {
        t.join();
    }
    CHECK(admitter.batches() == std::vector<std::size_t>{1, 8});
    for (std::size_t i = 0; i < raws.size(); ++i) {
        CHECK(results[i].request_id == raws[i].request_id);
        CHECK(results[i].reason == "portal");
    }
}

TEST_CASE("a failed batch fails each of its requests, and the next batch goes on",
          "[serve][group-commit]") {
    HeldAdmitter admitter;
    admitter.release();
    GroupCommitSink sink(admitter);
    SenderIdentity s{"form", 1, false};
    intake::RawRequest raw;
    raw.request_id = "R1";
    admitter.fail_next = true;
    CHECK_THROWS_WITH(sink.admit(raw, s), "disk full");
    CHECK(sink.admit(raw, s).outcome == Admitted::Outcome::created);
    CHECK(admitter.batches() == std::vector<std::size_t>{1, 1});
}
