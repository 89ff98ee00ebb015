#include "../store/fixture.hpp"
#include "store/claims.hpp"
#include "worker/worker.hpp"

#include <catch2/catch.hpp>
#include <mutex>
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

    cio::CallResult suppress(std::string_view id) override { return next("suppress", id); }
    cio::CallResult destroy(std::string_view id) override { return next("destroy", id); }

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
        auto claimed = queue.claim(60'000);
        REQUIRE(claimed);
        worker.erase(api, *claimed);
    }
    std::optional<store::RequestRow> row(const std::string& id) {
        return store::RequestQueue(db, clock).find(id);
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
    CHECK(r->attempts == 1);
    CHECK(r->next_attempt_at == t0 + 1'000); // FixedRandom gives the top of the jitter range
    CHECK(r->last_error == "suppress: HTTP 503");
    CHECK_FALSE(r->lease_owner.has_value());
}

TEST_CASE("a destroy failure after a committed suppress resumes at destroy", "[worker]") {
    WorkerFixture f;
    f.insert(f.request("R1", "alice"));
    f.api.script = {k_ok, result(cio::Outcome::retryable, 0, "timeout")};
    f.erase_next();
    CHECK(f.state_of("R1") == "suppressed");
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
    CHECK(f.row("R1")->next_attempt_at == t0 + 30'000);
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
    CHECK(f.row("R1")->last_error == "suppress: HTTP 400: identifier invalid");
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
        REQUIRE(f.queue.claim(1'000)); // claimed, then the worker "dies"
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
    CHECK(rep.halt_reason.find("credentials") != std::string::npos);
    auto r = f.row("R1");
    CHECK(r->state == "pending");
    CHECK(r->attempts == 0);
    CHECK_FALSE(r->lease_owner.has_value());
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
            cio::CallResult suppress(std::string_view id) override {
                std::lock_guard l(m);
                o.push_back("S" + std::string(id));
                return k_ok;
            }
            cio::CallResult destroy(std::string_view id) override {
                std::lock_guard l(m);
                o.push_back("D" + std::string(id));
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
