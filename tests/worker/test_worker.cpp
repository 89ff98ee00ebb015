#include "../store/fixture.hpp"
#include "store/claims.hpp"
#include "worker/worker.hpp"

#include <SQLiteCpp/Transaction.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <sqlite3.h>
#include <thread>
#include <vector>

using namespace lethe;
using namespace lethe::worker;

namespace {

cio::CallResult result(cio::Outcome o, long status, std::string error = "",
                       std::optional<TimeMs> retry_after = std::nullopt) {
    cio::CallResult r;
    r.outcome = o;
    r.http_status = status;
    r.error = error.empty() ? "HTTP " + std::to_string(status) : error;
    r.retry_after_ms = retry_after;
    r.latency_ms = 7;
    return r;
}

const cio::CallResult k_ok = result(cio::Outcome::success, 200);

// Answers from a script (then success) and records every call, in order.
class ScriptedApi final : public ErasureApi {
public:
    std::vector<cio::CallResult> script;
    std::vector<std::string> calls;
    std::mutex mutex;

    cio::CallResult suppress(const cio::Target& who) override {
        return next("suppress", who.value);
    }
    cio::CallResult destroy(const cio::Target& who) override { return next("destroy", who.value); }

private:
    cio::CallResult next(const char* call, std::string_view id) {
        std::lock_guard lock(mutex);
        calls.push_back(std::string(call) + " " + std::string(id));
        if (script.empty()) {
            return k_ok;
        }
        auto r = script.front();
        script.erase(script.begin());
        return r;
    }
};

class FixedRandom final : public Random {
public:
    std::uint64_t uniform(std::uint64_t max) override { return max; }
};

// A worker on a fresh database with a fake clock; erase() is driven directly.
struct WorkerFixture : test::StoreFixture {
    ScriptedApi api;
    FixedRandom random;
    store::WorkerQueue queue{db, clock, "test-worker"};
    WorkerSettings settings = [] {
        WorkerSettings s;
        s.retry = {1'000, 60'000, 3};
        return s;
    }();
    Worker worker{queue, [] { return std::unique_ptr<ErasureApi>(); }, settings, clock, clock,
                  random};

    void erase_next() {
        auto claimed = queue.claim("default", 60'000);
        REQUIRE(claimed);
        worker.erase(api, *claimed);
    }
    std::optional<store::RequestRow> row(const std::string& id) {
        return store::RequestQueue(db, clock).find(id);
    }
};

// A worker run on real time (threads, a real clock) over a fresh database; no pacing, drain mode.
struct RealTimeFixture : test::StoreFixture {
    SystemClock real_clock;
    SystemSleeper sleeper;
    FixedRandom random;
    store::WorkerQueue queue{db, real_clock, "w"};
    WorkerSettings settings = [] {
        WorkerSettings s;
        s.pacing_ms = 0;
        s.concurrency = 2;
        s.once = true;
        return s;
    }();

    WorkerReport run(
        ErasureApiFactory factory, const std::function<void(Worker&)>& prepare = [](Worker&) {}) {
        Worker w(queue, std::move(factory), settings, real_clock, sleeper, random);
        prepare(w);
        return w.run();
    }
};

} // namespace

TEST_CASE("an erasure suppresses, then destroys, then is done", "[worker]") {
    WorkerFixture f;
    f.insert(f.request("R1", "alice"));
    f.erase_next();
    CHECK(f.api.calls == std::vector<std::string>{"suppress alice", "destroy alice"});
    CHECK(f.state_of("R1") == "done");
    CHECK_FALSE(f.row("R1")->identifier.has_value());
    CHECK(f.worker.report().erased == 1);
}

TEST_CASE("a retryable suppress failure schedules a retry and never destroys", "[worker]") {
    WorkerFixture f;
    f.insert(f.request("R1", "alice"));
    f.api.script = {result(cio::Outcome::retryable, 503)};
    const TimeMs t0 = f.clock.now_ms();
    f.erase_next();
    CHECK(f.api.calls == std::vector<std::string>{"suppress alice"});
    auto r = f.row("R1");
    CHECK(r->state == "pending");
    CHECK(f.erasure_state("R1") == "pending");
    CHECK(r->attempts == 1);
    // FixedRandom gives the top of the jitter range.
    CHECK(f.erasure_int("R1", "next_attempt_at") == t0 + 1'000);
    CHECK(r->last_error == "workspace default: suppress: HTTP 503");
    CHECK(f.erasure_int("R1", "lease_expires_at") == -1);
}

TEST_CASE("a destroy failure after a committed suppress resumes at destroy", "[worker]") {
    WorkerFixture f;
    f.insert(f.request("R1", "alice"));
    f.api.script = {k_ok, result(cio::Outcome::retryable, 0, "timeout")};
    f.erase_next();
    CHECK(f.erasure_state("R1") == "suppressed");
    f.clock.advance(2'000);
    f.api.calls.clear();
    f.erase_next();
    CHECK(f.api.calls == std::vector<std::string>{"destroy alice"});
    CHECK(f.state_of("R1") == "done");
}

TEST_CASE("429 with Retry-After: the later time wins and the whole worker pauses", "[worker]") {
    WorkerFixture f;
    f.insert(f.request("R1", "alice"));
    f.api.script = {result(cio::Outcome::retryable, 429, "HTTP 429", 30'000)};
    const TimeMs t0 = f.clock.now_ms();
    f.erase_next();
    CHECK(f.erasure_int("R1", "next_attempt_at") == t0 + 30'000);
    // Another request claimed now waits (on the fake clock) until the pause is over.
    f.insert(f.request("R2", "bob"));
    f.erase_next();
    CHECK(f.clock.now_ms() >= t0 + 30'000);
    CHECK(f.state_of("R2") == "done");
}

TEST_CASE("a permanent error makes the request dead with the reason", "[worker]") {
    WorkerFixture f;
    f.insert(f.request("R1", "alice"));
    f.api.script = {result(cio::Outcome::permanent, 400, "HTTP 400: identifier invalid")};
    f.erase_next();
    CHECK(f.state_of("R1") == "dead");
    CHECK(f.row("R1")->last_error == "workspace default: suppress: HTTP 400: identifier invalid");
    CHECK(f.api.calls.size() == 1);
}

TEST_CASE("attempts run out: the last retryable failure is dead", "[worker]") {
    WorkerFixture f;
    f.insert(f.request("R1", "alice"));
    for (int i = 0; i < 3; ++i) {
        f.api.script = {result(cio::Outcome::retryable, 502)};
        f.erase_next();
        f.clock.advance(120'000);
    }
    CHECK(f.state_of("R1") == "dead");
    CHECK(f.row("R1")->last_error->find("attempts exhausted after 3") != std::string::npos);
}

TEST_CASE("a request whose earlier attempts died with their worker goes dead", "[worker]") {
    WorkerFixture f;
    f.insert(f.request("R1", "alice"));
    for (int i = 0; i < 3; ++i) {
        REQUIRE(f.queue.claim("default", 1'000)); // claimed, then the worker "dies"
        f.clock.advance(1'000);
    }
    f.erase_next();
    CHECK(f.api.calls.empty());
    CHECK(f.state_of("R1") == "dead");
}

TEST_CASE("401 halts the worker; the request is released, not failed or charged", "[worker]") {
    WorkerFixture f;
    f.insert(f.request("R1", "alice"));
    f.api.script = {result(cio::Outcome::auth, 401)};
    f.erase_next();
    auto rep = f.worker.report();
    CHECK(rep.halted);
    CHECK(rep.halt == HaltKind::credentials);
    CHECK(rep.halt_reason.find("credentials") != std::string::npos);
    auto r = f.row("R1");
    CHECK(r->state == "pending");
    CHECK(r->attempts == 0);
    CHECK(f.erasure_int("R1", "lease_expires_at") == -1);
}

TEST_CASE("on 401 the credentials are re-read once; rotated ones carry on", "[worker]") {
    WorkerFixture f;
    f.insert(f.request("R1", "alice"));
    int reloads = 0;
    f.worker.set_credential_reloader([&] {
        ++reloads;
        return true;
    });
    f.api.script = {result(cio::Outcome::auth, 401)};
    f.erase_next();
    CHECK(reloads == 1);
    CHECK(f.state_of("R1") == "done");
    CHECK_FALSE(f.worker.report().halted);
}

TEST_CASE("404 on destroy means already gone: done", "[worker]") {
    WorkerFixture f;
    f.insert(f.request("R1", "alice"));
    auto gone = result(cio::Outcome::success, 404);
    gone.already_gone = true;
    f.api.script = {k_ok, gone};
    f.erase_next();
    CHECK(f.state_of("R1") == "done");
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'call.destroy' AND detail LIKE "
                  "'%already_gone%'") == 1);
}

TEST_CASE("run --once drains the queue with several erasures in flight", "[worker]") {
    test::StoreFixture f;
    for (int i = 0; i < 40; ++i) {
        f.insert(f.request("R" + std::to_string(i), "person" + std::to_string(i)));
    }
    SystemClock clock;
    SystemSleeper sleeper;
    FixedRandom random;
    store::WorkerQueue queue(f.db, clock, "w");
    std::mutex mutex;
    std::vector<std::string> order;
    auto factory = [&]() -> std::unique_ptr<ErasureApi> {
        struct Recording final : ErasureApi {
            std::mutex& m;
            std::vector<std::string>& o;
            Recording(std::mutex& mm, std::vector<std::string>& oo) : m(mm), o(oo) {}
            cio::CallResult suppress(const cio::Target& who) override {
                std::lock_guard l(m);
                o.push_back("S" + who.value);
                return k_ok;
            }
            cio::CallResult destroy(const cio::Target& who) override {
                std::lock_guard l(m);
                o.push_back("D" + who.value);
                return k_ok;
            }
        };
        return std::make_unique<Recording>(mutex, order);
    };
    WorkerSettings s;
    s.pacing_ms = 0;
    s.concurrency = 4;
    s.once = true;
    Worker w(queue, factory, s, clock, sleeper, random);
    auto rep = w.run();
    CHECK(rep.erased == 40);
    CHECK(rep.stop_reason == "drained");
    CHECK(f.count("SELECT count(*) FROM requests WHERE state = 'done'") == 40);
    REQUIRE(order.size() == 80);
    for (int i = 0; i < 40; ++i) {
        std::string id = "person" + std::to_string(i);
        auto s_at = std::find(order.begin(), order.end(), "S" + id);
        auto d_at = std::find(order.begin(), order.end(), "D" + id);
        CHECK(s_at < d_at);
    }
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'worker.started'") == 1);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'worker.stopped'") == 1);
}

TEST_CASE("a stop during a 429 pause sends nothing and gives the request back uncharged",
          "[worker]") {
    WorkerFixture f;
    f.insert(f.request("R1", "alice"));
    f.insert(f.request("R2", "bob"));
    f.api.script = {result(cio::Outcome::retryable, 429, "HTTP 429", 3'600'000)};
    f.erase_next(); // R1: 429 with Retry-After of an hour pauses every call
    f.worker.request_stop();
    const TimeMs stopped_at = f.clock.now_ms();
    f.erase_next(); // R2 was already claimed when the stop came
    CHECK(f.api.calls == std::vector<std::string>{"suppress alice"});
    CHECK(f.clock.now_ms() == stopped_at); // it did not wait out the pause either
    auto r2 = f.row("R2");
    CHECK(r2->state == "pending");
    CHECK(r2->attempts == 0);
    CHECK(f.erasure_int("R2", "lease_expires_at") == -1);
    CHECK(f.worker.report().released == 1);
}

TEST_CASE("a destroy waiting at a 429 pause is not sent on stop; suppress stays committed",
          "[worker]") {
    WorkerFixture f;
    f.insert(f.request("R1", "alice"));
    f.api.script = {k_ok, result(cio::Outcome::retryable, 503)};
    f.erase_next(); // R1 suppressed, its destroy to be retried in 1 s
    REQUIRE(f.erasure_state("R1") == "suppressed");
    f.insert(f.request("R2", "bob"));
    f.api.script = {result(cio::Outcome::retryable, 429, "HTTP 429", 3'600'000)};
    f.erase_next(); // R2's suppress gets a 429: every call pauses for an hour
    f.clock.advance(2'000);
    f.worker.request_stop();
    f.api.calls.clear();
    f.erase_next(); // R1 is due; its destroy would wait at the pause
    CHECK(f.api.calls.empty());
    auto r1 = f.row("R1");
    CHECK(f.erasure_state("R1") == "suppressed");
    CHECK(r1->attempts == 1); // the unsent destroy was not charged
    CHECK(f.erasure_int("R1", "lease_expires_at") == -1);
}

TEST_CASE("on 401 the credentials are re-read once per set, and not again if unchanged",
          "[worker]") {
    WorkerFixture f;
    f.insert(f.request("R1", "alice"));
    f.insert(f.request("R2", "bob"));
    std::vector<bool> answers = {true, false};
    int reloads = 0;
    f.worker.set_credential_reloader([&] { return answers.at(reloads++); });
    f.api.script = {result(cio::Outcome::auth, 401)};
    f.erase_next(); // refused, re-read (new key), retried: done
    CHECK(f.state_of("R1") == "done");
    f.api.script = {result(cio::Outcome::auth, 401)};
    f.erase_next(); // the new key is refused too: re-read once more, unchanged: halt
    CHECK(reloads == 2);
    CHECK(f.worker.report().halted);
    CHECK(f.state_of("R2") == "pending");
}

namespace {

// A key revoked while two erasures are in flight: calls sent with the old key (version 0) wait
// until both are in flight, then both get 401; calls sent after the re-read succeed.
class RevokedKeyApi final : public ErasureApi {
public:
    RevokedKeyApi(std::mutex& m, std::condition_variable& cv, int& arrived, int& key_version)
        : m_m(m), m_cv(cv), m_arrived(arrived), m_key_version(key_version) {}
    cio::CallResult suppress(const cio::Target&) override { return call(); }
    cio::CallResult destroy(const cio::Target&) override { return call(); }

private:
    cio::CallResult call() {
        std::unique_lock lock(m_m);
        if (m_key_version > 0) {
            return k_ok;
        }
        ++m_arrived;
        m_cv.notify_all();
        m_cv.wait_for(lock, std::chrono::seconds(5), [&] { return m_arrived >= 2; });
        return result(cio::Outcome::auth, 401);
    }
    std::mutex& m_m;
    std::condition_variable& m_cv;
    int& m_arrived;
    int& m_key_version;
};

} // namespace

TEST_CASE("two calls refused at once by a rotated key: one re-read, both carry on", "[worker]") {
    RealTimeFixture f;
    f.insert(f.request("R1", "alice"));
    f.insert(f.request("R2", "bob"));
    std::mutex m;
    std::condition_variable cv;
    int arrived = 0;
    int key_version = 0;
    int reloads = 0;
    auto rep = f.run([&] { return std::make_unique<RevokedKeyApi>(m, cv, arrived, key_version); },
                     [&](Worker& w) {
                         w.set_credential_reloader([&] {
                             std::lock_guard lock(m);
                             ++reloads;
                             ++key_version;
                             return true;
                         });
                     });
    CHECK(arrived == 2); // both were in flight with the old key
    CHECK(reloads == 1);
    CHECK_FALSE(rep.halted);
    CHECK(rep.erased == 2);
    CHECK(f.count("SELECT count(*) FROM requests WHERE state = 'done'") == 2);
}

TEST_CASE("a database failure while claiming halts the run cleanly", "[worker]") {
    RealTimeFixture f;
    f.insert(f.request("R1", "alice"));
    // The claim statement fails (here: its table is gone). Before, the exception left run() with
    // the slot threads still running: std::terminate, and no worker.halted entry.
    f.db.db().exec("ALTER TABLE erasures RENAME TO erasures_elsewhere");
    auto rep = f.run([] { return std::make_unique<ScriptedApi>(); });
    CHECK(rep.halted);
    CHECK(rep.halt == HaltKind::database);
    CHECK(rep.halt_reason.find("database: ") == 0);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'worker.halted'") == 1);
    f.db.db().exec("ALTER TABLE erasures_elsewhere RENAME TO erasures");
    CHECK(f.state_of("R1") == "pending");
}

TEST_CASE("leases are renewed until the last erasure in flight ends, after --max too", "[worker]") {
    RealTimeFixture f;
    f.insert(f.request("R1", "alice"));
    f.insert(f.request("R2", "bob"));
    std::optional<TimeMs> lease_left_at_end; // lease time left when the slow destroy returns
    struct SlowDestroy final : ErasureApi {
        std::function<void()> on_destroy;
        cio::CallResult suppress(const cio::Target&) override { return k_ok; }
        cio::CallResult destroy(const cio::Target&) override {
            on_destroy();
            return k_ok;
        }
    };
    f.settings.concurrency = 1;
    f.settings.max_erasures = 1; // the scheduler stops right after the first claim
    f.settings.lease_ms = 300;   // renewed every 100 ms
    auto rep = f.run([&] {
        auto api = std::make_unique<SlowDestroy>();
        api->on_destroy = [&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(900));
            lease_left_at_end =
                f.db.db()
                    .execAndGet("SELECT e.lease_expires_at FROM erasures e JOIN requests r ON "
                                "r.id = e.request WHERE r.request_id = 'R1'")
                    .getInt64() -
                f.real_clock.now_ms();
        };
        return api;
    });
    CHECK(rep.stop_reason == "max");
    CHECK(rep.erased == 1);
    REQUIRE(lease_left_at_end);
    CHECK(*lease_left_at_end > 0); // still held: renewed while the scheduler had stopped
}

TEST_CASE("a failed pin check halts before any call and charges nothing", "[worker][pin]") {
    RealTimeFixture f;
    f.insert(f.request("R1", "alice"));
    int checks = 0;
    std::vector<std::string> calls;
    auto rep = f.run(
        [&] {
            auto api = std::make_unique<ScriptedApi>();
            return std::unique_ptr<ErasureApi>(std::move(api));
        },
        [&](Worker& w) {
            w.set_pin_checker([&] {
                ++checks;
                return PinResult{HaltKind::pin,
                                 "the Track API key belongs to environment 202, not 101",
                                 "environment_mismatch"};
            });
        });
    CHECK(checks == 1);
    CHECK(rep.halted);
    CHECK(rep.halt == HaltKind::pin);
    CHECK(rep.halt_reason == "workspace default: the Track API key belongs to environment 202, not "
                             "101");
    CHECK(rep.started == 0);
    CHECK(f.erasure_int("R1", "attempts") == 0);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'workspace.pin_failed' AND detail "
                  "LIKE '%\"workspace\":\"default\"%'") == 1);
    // A fixed word in the evidence, not the message (which may quote the remote answer).
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'workspace.pin_failed' AND "
                  "json_extract(detail, '$.reason') = 'environment_mismatch'") == 1);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE detail LIKE '%belongs to%'") == 0);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event LIKE 'call.%'") == 0);
}

TEST_CASE("credentials re-read on 401 are pinned before the call is sent again", "[worker][pin]") {
    WorkerFixture f;
    f.insert(f.request("R1", "alice"));
    int checks = 0;
    f.worker.set_credential_reloader([] { return true; });
    f.worker.set_pin_checker([&] {
        ++checks;
        return PinResult{HaltKind::pin, "the Track API key belongs to environment 7, not 101",
                         "environment_mismatch"};
    });
    f.api.script = {result(cio::Outcome::auth, 401)};
    f.erase_next();
    CHECK(checks == 1);
    CHECK(f.api.calls == std::vector<std::string>{"suppress alice"}); // not sent again
    CHECK(f.worker.report().halt == HaltKind::pin);
    CHECK(f.erasure_state("R1") == "pending");
    CHECK(f.erasure_int("R1", "attempts") == 0);
}

TEST_CASE("workspaces are independent: a 429 pauses only its own workspace", "[worker]") {
    test::StoreFixture f;
    f.workspaces = {"eu", "us"};
    f.insert(f.request("R1", "alice"));
    FixedRandom random;
    store::WorkerQueue queue(f.db, f.clock, "w");
    WorkerSettings s;
    s.retry = {1'000, 60'000, 3};
    s.workspace = "eu";
    Worker eu(
        queue, [] { return std::unique_ptr<ErasureApi>(); }, s, f.clock, f.clock, random);
    s.workspace = "us";
    Worker us(
        queue, [] { return std::unique_ptr<ErasureApi>(); }, s, f.clock, f.clock, random);
    ScriptedApi eu_api;
    ScriptedApi us_api;
    eu_api.script = {result(cio::Outcome::retryable, 429, "HTTP 429", 3'600'000)};
    auto first = queue.claim("eu", 60'000);
    REQUIRE(first);
    eu.erase(eu_api, *first);
    const TimeMs after_429 = f.clock.now_ms();
    auto other = queue.claim("us", 60'000);
    REQUIRE(other);
    us.erase(us_api, *other);
    CHECK(f.clock.now_ms() == after_429); // us did not wait out eu's hour
    CHECK(us_api.calls == std::vector<std::string>{"suppress alice", "destroy alice"});
    CHECK(f.erasure_state("R1", "us") == "done");
    CHECK(f.erasure_state("R1", "eu") == "pending");
    CHECK(f.state_of("R1") == "pending");
}

TEST_CASE("--max is shared by the workers of several workspaces", "[worker]") {
    StartBudget budget(3);
    int taken = 0;
    while (budget.take()) {
        ++taken;
    }
    CHECK(taken == 3);
    CHECK(budget.exhausted());
    CHECK_FALSE(budget.take()); // never below zero
}

namespace {

// Sleeps on the fake clock; the n-th sleep runs `on_sleep` (here: the other writer commits).
class HookSleeper final : public Sleeper {
public:
    HookSleeper(FakeClock& clock, int release_at, std::function<void()> on_sleep)
        : m_clock(clock), m_release_at(release_at), m_on_sleep(std::move(on_sleep)) {}
    void sleep_ms(TimeMs ms) override {
        m_clock.advance(ms);
        if (++sleeps == m_release_at) {
            m_on_sleep();
        }
    }
    int sleeps = 0;

private:
    FakeClock& m_clock;
    int m_release_at;
    std::function<void()> m_on_sleep;
};

} // namespace

TEST_CASE("a busy database is waited out: the call is recorded once, nothing is charged",
          "[worker][busy]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    f.db.db().setBusyTimeout(0); // SQLite's own wait would be real time
    ScriptedApi api;
    FixedRandom random;
    store::WorkerQueue queue{f.db, f.clock, "test-worker"};
    auto claimed = queue.claim("default", 60'000);
    REQUIRE(claimed);

    // Another process (an import) takes the write lock once the claim is made.
    store::Database other(f.dir / "lethe.db", store::OpenMode::existing);
    std::optional<SQLite::Transaction> import_tx;
    import_tx.emplace(other.db(), SQLite::TransactionBehavior::IMMEDIATE);
    HookSleeper sleeper(f.clock, 3, [&] { import_tx->commit(); });
    WorkerSettings settings;
    settings.retry = {1'000, 60'000, 3};
    Worker worker{queue, [] { return std::unique_ptr<ErasureApi>(); }, settings, f.clock, sleeper,
                  random};
    worker.erase(api, *claimed);

    CHECK(sleeper.sleeps == 3); // waited while the other writer held the lock
    // Each call was sent once and its outcome recorded after the wait, in order.
    CHECK(api.calls == std::vector<std::string>{"suppress alice", "destroy alice"});
    CHECK(f.state_of("R1") == "done");
    CHECK(f.count("SELECT attempts FROM erasures") == 1);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'call.suppress'") == 1);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'call.destroy'") == 1);
    CHECK_FALSE(worker.report().halted);
}

TEST_CASE("is_busy tells a busy database from a broken one", "[worker][busy]") {
    CHECK(store::is_busy(SQLite::Exception("database is locked", SQLITE_BUSY)));
    CHECK(store::is_busy(SQLite::Exception("locked", SQLITE_LOCKED)));
    CHECK_FALSE(store::is_busy(SQLite::Exception("disk full", SQLITE_FULL)));
    CHECK_FALSE(store::is_busy(std::runtime_error("other")));
}
