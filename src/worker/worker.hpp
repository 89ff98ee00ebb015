#pragma once

#include "cio/app_client.hpp"
#include "cio/track_client.hpp"
#include "erasure/lifecycle.hpp"
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
#include <set>
#include <string>
#include <string_view>

namespace lethe::worker {

// The Track API calls an erasure makes, typed (Track API v2: no workspace setting can misread
// the identifier); one instance per in-flight erasure (it may keep a connection).
class ErasureApi {
public:
    virtual ~ErasureApi() = default;
    // POST /api/v2/entity, action "suppress": deletes the profile and blocks its identifiers.
    virtual cio::CallResult suppress(const cio::Target& who) = 0;
    // POST /api/v2/entity, action "delete".
    virtual cio::CallResult destroy(const cio::Target& who) = 0;
    // POST /api/v2/batch: suppress or delete up to cio::k_max_batch_operations targets in one
    // call. This default, for an API without a batch endpoint (test doubles), sends them one by
    // one, in order: a 400 is a refused operation, any other failure ends the batch as its call.
    virtual cio::BatchResult batch(erasure::Step step, const std::vector<cio::Target>& who);
};

// Makes one ErasureApi per in-flight erasure slot.
using ErasureApiFactory = std::function<std::unique_ptr<ErasureApi>()>;

// The App API reads that resolve and verify an erasure; one instance per slot.
class VerifyApi {
public:
    virtual ~VerifyApi() = default;
    // Every profile `who` refers to (cio::AppClient::find).
    virtual cio::Lookup find(const cio::Target& who) = 0;
    // Which of `cio_ids` still exist (cio::AppClient::present).
    virtual cio::Lookup present(const std::vector<std::string>& cio_ids) = 0;
    // The profiles of up to cio::k_max_bulk_values identifiers of one type, in one call
    // (cio::AppClient::find_many).
    virtual cio::BulkLookup find_many(const std::string& id_type,
                                      const std::vector<std::string>& values) = 0;
};

// Makes one VerifyApi per slot; an empty function when the workspace has no App API key (its
// erasures are then unverified).
using VerifyApiFactory = std::function<std::unique_ptr<VerifyApi>()>;

// Why a worker stopped before it was done.
enum class HaltKind {
    none,
    credentials, // Customer.io refused the credentials (exit 6)
    pin,         // the workspace is not the one configured: environment, region or URL (exit 8)
    unreachable, // the pin check got no answer from Customer.io (exit 7)
    environment, // another problem that is not a request's fault, e.g. a foreign redirect
    database,    // the database failed (disk full, I/O error)
};

// The answer of a pin check: is the key's workspace the configured one?
struct PinResult {
    HaltKind failure = HaltKind::none; // none: pinned; credentials, pin, unreachable
    std::string reason;                // for the operator (logs, stderr); may quote the answer
    std::string code;                  // a fixed word for the audit log ("url_mismatch", …)
};

// Asks Customer.io which workspace the current credentials belong to (GET
// /api/v1/accounts/region) and compares it with the configuration. Called before every claim:
// it must answer from memory while the credentials it last pinned are still in use.
using PinChecker = std::function<PinResult()>;

// Shares one --max among the workers of several workspaces: a worker takes a start for each
// erasure it has claimed, and gives the claim back when none is left. Thread-safe.
class StartBudget {
public:
    explicit StartBudget(std::int64_t max) : m_left(max) {}
    // Takes one start; false (and nothing taken) when none is left.
    bool take() {
        std::int64_t left = m_left.load();
        while (left > 0 && !m_left.compare_exchange_weak(left, left - 1)) {
        }
        return left > 0;
    }
    // True when no start is left.
    bool exhausted() const { return m_left.load() <= 0; }

private:
    std::atomic<std::int64_t> m_left;
};

// Asked when Customer.io refuses the credentials: re-read them (they may have been rotated) and
// return true when the next call should be tried with the new ones. Asked at most once per set
// of credentials, however many calls in flight were refused with it.
using CredentialReloader = std::function<bool()>;

// Settings of one worker run.
struct WorkerSettings {
    std::string workspace = "default"; // the erasures this worker claims
    TimeMs pacing_ms = 100;
    std::int64_t concurrency = 4;
    TimeMs lease_ms = 60'000;
    RetryPolicy retry;
    TimeMs poll_interval_ms = 5'000;
    TimeMs verify_window_ms = 1'800'000; // re-check a profile still present for this long
    TimeMs app_interval_ms = 100;        // App API: at most 10 requests/s per workspace
    bool once = false;                   // drain what is due and exit (cron)
    std::int64_t max_erasures = 0;       // stop after this many started erasures (0: no limit)
    StartBudget* budget = nullptr; // a --max shared with other workers (overrides max_erasures)
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
    HaltKind halt = HaltKind::none;
    std::string halt_reason;
    std::string halt_evidence; // halt_reason as worker.halted records it (no remote text)
    // Set when the pin check got no answer: this workspace's erasures wait (other workspaces
    // are not held back).
    std::string unreachable_reason;
    std::string stop_reason;     // "drained", "signal", "max", "halt", "unreachable"
    store::QueueOutlook outlook; // what is left when the run ended
};

// Takes the erasures of one workspace from the queue and makes each one's calls: suppress, then
// destroy, as erasure::decide() rules. Erasures run on `concurrency` threads; a scheduler starts
// them on the workspace's pacing schedule, and a 429 pauses only this workspace. Where the
// workspace has an App API key, one more thread resolves and verifies: it claims up to 100
// erasures at a time and reads them with bulk calls on the App API's own schedule, so that its
// limit of 10 requests/s does not slow the erasures (docs/verification.md, "Rates").
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
    // Resolve and verify through the App API (without it, erasures are unverified).
    void set_verify_api_factory(VerifyApiFactory factory) { m_verify_factory = std::move(factory); }
    // Installs the pin check made before each claim (see PinChecker) and after a credential
    // re-read on 401/403.
    void set_pin_checker(PinChecker checker) { m_pin_checker = std::move(checker); }
    // Runs until drained (once), stopped, halted or --max reached.
    WorkerReport run();
    // Asks the run to stop: no new erasures, in-flight calls finish, leases are released.
    // Safe from any thread.
    void request_stop();
    // Processes one claimed request synchronously with `api` (the unit tests' entry point).
    // `app`: the App API (null: unverified).
    void erase(ErasureApi& api, store::ClaimedErasure erasure, VerifyApi* app = nullptr);
    // Counters so far.
    WorkerReport report() const;

private:
    // What one step did: the result that decides it, and the facts for the evidence.
    struct StepResult {
        cio::CallResult result; // the deciding result (the first failure, or the last success)
        erasure::Outcome outcome = erasure::Outcome::success;
        store::StepFacts facts;
    };
    // Runs one step of `e`; nullopt when a stop came before a call could be sent.
    std::optional<StepResult> run_step(ErasureApi& api, VerifyApi* app,
                                       const store::ClaimedErasure& e, erasure::Step step);
    std::optional<StepResult> resolve(VerifyApi& app, const store::ClaimedErasure& e);
    std::optional<StepResult> track_step(ErasureApi& api, const store::ClaimedErasure& e,
                                         erasure::Step step, bool verified);
    std::optional<StepResult> verify(VerifyApi& app, const store::ClaimedErasure& e);

    // What the App API said about one erasure of a batch.
    struct Reading {
        cio::CallResult result;               // the deciding result (the first failure, or success)
        std::vector<store::CallRecord> calls; // every call that covered this erasure
        std::vector<std::string> found;       // the profiles its identifier refers to
        bool not_an_identifier = false;       // its id_type is not an identifier here
        bool failed() const { return result.outcome != cio::Outcome::success; }
    };
    // Resolves pending erasures and verifies erased ones in batches, until the run ends.
    void app_loop();
    // Whether the resolved erasures waiting for the slots may run out before the next resolve.
    bool resolved_running_low();
    // Claims the App API's next batch: erased ones first (they finish work), unless the slots
    // are about to run out of resolved ones; empty when none.
    std::vector<store::ClaimedErasure> claim_app_batch();
    // Drops (and applies) the erasures whose earlier attempts never reported back.
    std::vector<store::ClaimedErasure> live_claims(std::vector<store::ClaimedErasure> batch);
    using OnRead = std::function<void(const std::vector<std::size_t>&)>;
    // A batch's positions by id_type, in the order first seen; `unread`: those a verification
    // need not read by identifier (a cio_id that is one of its own erased profiles).
    struct TypeGroups {
        std::vector<std::pair<std::string, std::vector<std::size_t>>> groups;
        std::vector<std::size_t> unread;
    };
    static TypeGroups group_by_type(const std::vector<store::ClaimedErasure>& batch,
                                    erasure::Step step);
    // Reads the profiles each erasure's identifier refers to, in bulk where the type allows it;
    // false when a stop came first. `on_read`, when given, is called with the positions whose
    // reads are complete as soon as each call returns, so that a resolve hands them on without
    // waiting for the whole batch.
    bool read_identifiers(VerifyApi& app, const std::vector<store::ClaimedErasure>& batch,
                          erasure::Step step, std::vector<Reading>& readings,
                          const OnRead& on_read = {});
    // The reads of one id_type group (`members`: positions in the batch).
    bool read_group(VerifyApi& app, const std::vector<store::ClaimedErasure>& batch,
                    erasure::Step step, const std::string& type,
                    const std::vector<std::size_t>& members, std::vector<Reading>& readings,
                    const OnRead& on_read);
    // Whether this run reads `type` by search only (the App API refused it as an identifier).
    bool search_only(const std::string& type);
    void set_search_only(const std::string& type);
    // Runs independent reads at once, each on its own App API client (the App API's schedule
    // still spaces their starts); false when any of them met a stop.
    bool read_at_once(VerifyApi& app, const std::vector<std::function<bool(VerifyApi&)>>& reads);
    // Reads which of the batch's erased profiles are still there; false on a stop.
    bool read_profiles(VerifyApi& app, const std::vector<store::ClaimedErasure>& batch,
                       std::vector<Reading>& readings, std::vector<std::string>& still);
    void resolve_batch(VerifyApi& app, std::vector<store::ClaimedErasure> batch);
    // Records a resolve from its reading and hands the erasure on to the slots.
    void finish_resolve(store::ClaimedErasure& e, Reading& r);
    void verify_batch(VerifyApi& app, std::vector<store::ClaimedErasure> batch);
    // Sends a claimed erasure on to what does its next step: the erasure slots (suppress,
    // destroy), or the queue, where the App API thread claims it (resolve, verify).
    void pass_on(store::ClaimedErasure e);
    // An erasure the App API thread resolved, if one waits for the erasure slots.
    std::optional<store::ClaimedErasure> take_resolved();
    // Whether erasures started in this run are still on their way (--max: finish them).
    bool started_work_left();
    // Waits for the App API's schedule (10 requests/s, its own 429 pause); false on stop.
    bool wait_for_app();
    // Waits until the App API's next call may go, without taking the turn; false on a stop or
    // at the end of the run.
    bool wait_for_app_turn();
    // Waits for the first pin check of the run to pass; false on a stop. What the App API reads
    // before it is recorded, and handed to the slots, only after it.
    bool wait_for_pin();
    // Applies the decision for a step's result; true when the erasure goes on in this claim.
    bool handle(store::ClaimedErasure& e, erasure::Step step, const StepResult& step_result,
                bool verified);
    // Counts and logs what an applied decision did.
    void account(const store::ClaimedErasure& e, erasure::Step step, const erasure::Decision& d,
                 const cio::CallResult& result, TimeMs next_attempt_at);
    // Notes a 429 (pausing the workspace) or a success (ending a run of 429s).
    void note_rate_limit(const cio::CallResult& result, TimeMs now);
    // The call's result, after one retry with re-read credentials on 401/403; nullopt when the
    // call was not sent because a stop was requested during a 429 pause.
    // One target is one entity call; several are one batch call.
    std::optional<cio::BatchResult> call_with_reload(ErasureApi& api, erasure::Step step,
                                                     const std::vector<cio::Target>& who);
    std::optional<cio::BatchResult> send(ErasureApi& api, erasure::Step step,
                                         const std::vector<cio::Target>& who);
    bool credentials_renewed(std::uint64_t refused_generation, long http_status);
    // Runs the pin check (when installed); halts and records it when it fails.
    bool pinned();
    // A pin check that got no answer: waits and returns false (the caller asks again), or stops
    // this worker when a drain run has asked max_attempts times.
    bool pin_unreachable(const PinResult& pin, const std::string& reason);
    bool wait_for_gate();
    void give_back(const store::ClaimedErasure& e);
    // Stops the run; `evidence` is the reason as the audit log takes it (structured facts only,
    // invariant 9), `reason` itself when empty.
    void halt(HaltKind kind, const std::string& reason, const std::string& evidence = "");
    // Takes a start from the --max budget for a claimed erasure; false when none is left.
    bool take_start();
    bool budget_exhausted();
    bool stopping() const { return m_stop.load(); }
    // Runs a queue operation; while the database is busy (another process holds its write lock:
    // an import, a second worker) it waits and tries again, never halting and never charging an
    // attempt for it. After a stop request it gives up after k_busy_grace_ms (the caller's
    // exception then propagates: an unrecorded call is sent again once its lease expires).
    template <class F> auto with_database(F&& operation) -> decltype(operation()) {
        std::optional<TimeMs> busy_since;
        while (true) {
            try {
                auto result = operation();
                database_available(busy_since);
                return result;
            } catch (const std::exception& e) {
                if (!store::is_busy(e) || !wait_out_busy(busy_since)) {
                    throw;
                }
            }
        }
    }
    // One pause of with_database(); false when it should give up.
    bool wait_out_busy(std::optional<TimeMs>& busy_since);
    void database_available(const std::optional<TimeMs>& busy_since);
    // m_queue.apply() on a copy of `e`, copied back once it committed (a busy try that rolled
    // back must not leave its changes in `e` for the next).
    bool apply_copy(store::ClaimedErasure& e, const erasure::Decision& d,
                    const store::StepFacts& facts = {},
                    std::optional<TimeMs> next_attempt_at = std::nullopt);

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
    Pacer m_app_pacer; // the App API's own schedule and 429 pause
    CredentialReloader m_reloader;
    VerifyApiFactory m_verify_factory;
    PinChecker m_pin_checker;

    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_unreachable{false};                // the last pin check got no answer
    std::atomic<bool> m_pinned{false};                     // a pin check has passed in this run
    std::atomic<std::int64_t> m_pin_failures{0};           // pin checks without an answer in a row
    std::mutex m_reload_mutex;                             // one credential re-read at a time
    std::atomic<std::uint64_t> m_credential_generation{0}; // bumped by each successful re-read
    std::optional<std::uint64_t> m_reload_tried_for; // the generation last re-read on a refusal
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<store::ClaimedErasure> m_ready;     // claimed, waiting for a free slot
    std::vector<store::ClaimedErasure> m_in_flight; // being erased (leases to renew)
    // Resolve and verify run on the App API thread (set by run() when there is an App API).
    bool m_batching = false;
    std::vector<store::ClaimedErasure> m_resolved; // resolved, waiting for a slot (leases held)
    std::vector<store::ClaimedErasure> m_app_held; // the App API thread's batch (leases held)
    bool m_app_resolving = false;                  // a resolve batch is being read
    bool m_app_busy = false; // the App API thread is claiming or working on a batch
    // The id_types that are not identifiers here and are read by search (e-mail, phone): known
    // once a bulk read was refused. The App API thread's only.
    std::mutex m_search_mutex; // guards m_search_only: a verification reads groups at once
    std::set<std::string> m_search_only;
    // The App API thread's further clients, for the reads of a verification that go at once.
    std::vector<std::unique_ptr<VerifyApi>> m_app_extra;
    bool m_no_more_work = false; // the scheduler has stopped claiming
    bool m_slots_done = false;   // every slot has finished: no lease left to renew
    WorkerReport m_report;
    std::int64_t m_consecutive_429 = 0;
};

} // namespace lethe::worker
