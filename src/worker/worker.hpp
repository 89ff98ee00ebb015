#pragma once

#include "cio/track_client.hpp"
#include "store/claims.hpp"
#include "util/clock.hpp"
#include "util/random.hpp"
#include "worker/pacer.hpp"
#include "worker/retry_policy.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace lethe::worker {

// The two calls an erasure makes; one instance per in-flight erasure (it may keep a connection).
class ErasureApi {
public:
    virtual ~ErasureApi() = default;
    // POST /api/v1/customers/{identifier}/suppress.
    virtual cio::CallResult suppress(std::string_view identifier) = 0;
    // DELETE /api/v1/customers/{identifier}.
    virtual cio::CallResult destroy(std::string_view identifier) = 0;
};

// Makes one ErasureApi per in-flight erasure slot.
using ErasureApiFactory = std::function<std::unique_ptr<ErasureApi>()>;

// Asked when Customer.io refuses the credentials: re-read them (they may have been rotated) and
// return true when the next call should be tried with the new ones. Asked at most once per set
// of credentials, however many calls in flight were refused with it.
using CredentialReloader = std::function<bool()>;

// Settings of one worker run.
struct WorkerSettings {
    TimeMs pacing_ms = 100;
    std::int64_t concurrency = 4;
    TimeMs lease_ms = 60'000;
    RetryPolicy retry;
    TimeMs poll_interval_ms = 5'000;
    bool once = false;             // drain what is due and exit (cron)
    std::int64_t max_erasures = 0; // stop after this many started erasures (0: no limit)
    bool progress = false;         // show a progress line on stderr
};

// What a run did.
struct WorkerReport {
    std::int64_t started = 0;  // erasures started
    std::int64_t erased = 0;   // requests done
    std::int64_t retries = 0;  // failed attempts scheduled for later
    std::int64_t dead = 0;     // requests moved to dead
    std::int64_t released = 0; // handed back unfinished (stop or halt)
    bool halted = false;       // credentials refused or another condition that stops the worker
    std::string halt_reason;
    std::string stop_reason;     // "drained", "signal", "max", "halt"
    store::QueueOutlook outlook; // what is left when the run ended
};

// Takes requests from the queue and erases each one: suppress, then destroy. Erasures run on
// `concurrency` threads; a scheduler starts them on the pacing schedule.
class Worker {
public:
    // `sleeper` paces calls during a 429 pause; with a FakeClock the unit tests never wait.
    Worker(store::WorkerQueue& queue, ErasureApiFactory api_factory, WorkerSettings settings,
           const Clock& clock, Sleeper& sleeper, Random& random);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Installs the credential reloader asked on 401/403 before halting.
    void set_credential_reloader(CredentialReloader reloader) { m_reloader = std::move(reloader); }
    // Runs until drained (once), stopped, halted or --max reached.
    WorkerReport run();
    // Asks the run to stop: no new erasures, in-flight calls finish, leases are released.
    // Safe from any thread.
    void request_stop();
    // Processes one claimed request synchronously with `api` (the unit tests' entry point).
    void erase(ErasureApi& api, store::ClaimedRequest request);
    // Counters so far.
    WorkerReport report() const;

private:
    enum class Step { next, finished, released };
    Step handle(const store::ClaimedRequest& r, const cio::CallResult& result,
                const std::string& call);
    store::CallRecord to_record(const cio::CallResult& result, const std::string& call) const;
    // The call's result, after one retry with re-read credentials on 401/403; nullopt when the
    // call was not sent because a stop was requested during a 429 pause.
    std::optional<cio::CallResult> call_with_reload(ErasureApi& api, const std::string& call,
                                                    std::string_view identifier);
    std::optional<cio::CallResult> send(ErasureApi& api, const std::string& call,
                                        std::string_view identifier);
    bool credentials_renewed(std::uint64_t refused_generation, long http_status);
    bool wait_for_gate();
    void give_back(const store::ClaimedRequest& r);
    void halt(const std::string& reason);
    bool stopping() const { return m_stop.load(); }

    void scheduler_loop();
    bool wait_until(TimeMs t);
    bool idle_wait();
    void slot_loop();
    void lease_keeper_loop();
    void show_progress(std::int64_t total, TimeMs started_at);

    store::WorkerQueue& m_queue;
    ErasureApiFactory m_api_factory;
    WorkerSettings m_settings;
    const Clock& m_clock;
    Sleeper& m_sleeper;
    Random& m_random;
    Pacer m_pacer;
    CredentialReloader m_reloader;

    std::atomic<bool> m_stop{false};
    std::mutex m_reload_mutex;                             // one credential re-read at a time
    std::atomic<std::uint64_t> m_credential_generation{0}; // bumped by each successful re-read
    std::optional<std::uint64_t> m_reload_tried_for; // the generation last re-read on a refusal
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<store::ClaimedRequest> m_ready;     // claimed, waiting for a free slot
    std::vector<store::ClaimedRequest> m_in_flight; // being erased (leases to renew)
    bool m_no_more_work = false;                    // the scheduler has stopped claiming
    bool m_slots_done = false; // every slot has finished: no lease left to renew
    WorkerReport m_report;
    std::int64_t m_consecutive_429 = 0;
};

} // namespace lethe::worker
