#include "../store/fixture.hpp"
#include "erasure/lifecycle.hpp"
#include "serve/database_status.hpp"
#include "serve/metrics.hpp"
#include "store/claims.hpp"
#include "store/metrics_queries.hpp"
#include "store/migrations.hpp"
#include "store/requests.hpp"

#include <catch2/catch.hpp>

using namespace lethe;
using lethe::test::StoreFixture;

namespace {

bool contains(const std::string& text, const std::string& line) {
    return text.find(line) != std::string::npos;
}

// Decides and applies one call of claim `e` with `outcome`, as the worker does.
bool apply_call(store::WorkerQueue& queue, store::ClaimedErasure& e, erasure::Outcome outcome,
                long status, TimeMs next_attempt_at = 0) {
    const auto step = *erasure::next_step(e.state, false);
    store::StepFacts facts;
    store::CallRecord rec;
    rec.step = step;
    rec.http_status = status;
    rec.outcome = outcome;
    rec.error = outcome == erasure::Outcome::success ? "" : "HTTP error";
    rec.latency_ms = 12;
    facts.calls.push_back(rec);
    auto d = erasure::decide({e.state, e.step_attempt, 5}, step, {outcome, status, rec.error});
    return queue.apply(e, d, facts,
                       d.retry ? std::optional<TimeMs>(next_attempt_at) : std::nullopt);
}

} // namespace

TEST_CASE("metrics render in the Prometheus text format", "[serve][metrics]") {
    serve::MetricsSnapshot m;
    m.requests_by_state = {{"pending", 3}, {"done", 10}};
    m.calls.calls[{"us-main", "suppress", "200"}] = 11;
    m.calls.calls[{"us-main", "destroy", "none"}] = 2;
    m.calls.erasures["us-main"] = 10;
    m.calls.retries["us-main"] = 4;
    m.erasures_by_workspace["eu-main"] = {{"pending", 2}, {"done", 0}};
    m.oldest_pending_seconds = 86400;
    m.overdue = 1;
    m.audit_entries = 57;
    const std::string text = serve::render_metrics(m);
    CHECK(contains(text, "# HELP lethe_requests "));
    CHECK(contains(text, "# TYPE lethe_requests gauge\n"));
    CHECK(contains(text, "\nlethe_requests{state=\"pending\"} 3\n"));
    CHECK(contains(text, "\nlethe_requests{state=\"done\"} 10\n"));
    CHECK(contains(text, "# TYPE lethe_erasures_total counter\n"
                         "lethe_erasures_total{workspace=\"eu-main\"} 0\n"
                         "lethe_erasures_total{workspace=\"us-main\"} 10\n"));
    CHECK(contains(text, "# TYPE lethe_api_calls_total counter\n"));
    CHECK(contains(text, "\nlethe_api_calls_total{workspace=\"us-main\",call=\"suppress\",code="
                         "\"200\"} 11\n"));
    CHECK(contains(text, "\nlethe_api_calls_total{workspace=\"us-main\",call=\"destroy\",code="
                         "\"none\"} 2\n"));
    CHECK(contains(text, "\nlethe_retries_total{workspace=\"us-main\"} 4\n"));
    CHECK(
        contains(text, "\nlethe_workspace_erasures{workspace=\"eu-main\",state=\"pending\"} 2\n"));
    CHECK(contains(text, "\nlethe_oldest_pending_seconds 86400\n"));
    CHECK(contains(text, "# TYPE lethe_overdue_requests gauge\nlethe_overdue_requests 1\n"));
    CHECK(contains(text, "# TYPE lethe_audit_entries gauge\nlethe_audit_entries 57\n"));
    // Every line is a comment or "name{labels} value"; the text ends with a newline.
    REQUIRE(text.back() == '\n');
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        std::string line = text.substr(start, end - start);
        INFO(line);
        CHECK((line.rfind("# HELP lethe_", 0) == 0 || line.rfind("# TYPE lethe_", 0) == 0 ||
               line.rfind("lethe_", 0) == 0));
        CHECK(line.find(' ') != std::string::npos);
        start = end + 1;
    }
}

TEST_CASE("call counts come from the audit log, one scrape adding only new entries",
          "[serve][metrics]") {
    StoreFixture f;
    f.insert(f.request("R1", "alice"));
    f.insert(f.request("R2", "bob"));
    store::WorkerQueue queue(f.db, f.clock, "test-worker");

    store::CallTally tally;
    store::tally_calls(f.db, tally);
    CHECK(tally.calls.empty());
    CHECK(tally.last_seq == 2);
    CHECK(store::audit_entry_count(f.db) == 2);

    using erasure::Outcome;
    auto r1 = queue.claim("default", 60'000);
    REQUIRE(r1);
    REQUIRE(apply_call(queue, *r1, Outcome::retryable, 503, f.clock.now_ms()));
    auto again = queue.claim("default", 60'000);
    REQUIRE(again);
    REQUIRE(apply_call(queue, *again, Outcome::success, 200));
    REQUIRE(apply_call(queue, *again, Outcome::success, 200));

    store::tally_calls(f.db, tally);
    CHECK(tally.calls[{"default", "suppress", "503"}] == 1);
    CHECK(tally.calls[{"default", "suppress", "200"}] == 1);
    CHECK(tally.calls[{"default", "destroy", "200"}] == 1);
    CHECK(tally.retries["default"] == 1);
    CHECK(tally.erasures["default"] == 1);
    CHECK(tally.last_seq == store::audit_entry_count(f.db));

    // Nothing new: the totals stay; a network failure counts as code "none".
    store::tally_calls(f.db, tally);
    CHECK(tally.calls[{"default", "suppress", "200"}] == 1);
    auto r2 = queue.claim("default", 60'000);
    REQUIRE(r2);
    REQUIRE(apply_call(queue, *r2, Outcome::permanent, 0));
    store::tally_calls(f.db, tally);
    CHECK(tally.calls[{"default", "suppress", "none"}] == 1);
    CHECK(tally.retries["default"] == 1);

    // A fresh tally over the whole log agrees with the incremental one.
    store::CallTally full;
    store::tally_calls(f.db, full);
    CHECK(full.calls == tally.calls);
    CHECK(full.erasures == tally.erasures);
    CHECK(full.retries == tally.retries);
}

TEST_CASE("DatabaseStatus reports states, overdue, oldest pending and health", "[serve][metrics]") {
    StoreFixture f;
    auto old = f.request("OLD", "carol");
    old.received_at = f.clock.now_ms() - 40LL * 86'400'000; // past its one-month deadline
    f.insert(old);
    f.insert(f.request("NEW", "dave"));
    serve::DatabaseStatus status(f.db, f.clock);
    auto m = status.metrics();
    CHECK(m.requests_by_state.at("pending") == 2);
    CHECK(m.requests_by_state.at("done") == 0);
    CHECK(m.requests_by_state.size() == 4); // pending, done, dead, cancelled
    CHECK(m.erasures_by_workspace.at("default").at("pending") == 2);
    CHECK(m.overdue == 1);
    CHECK(m.oldest_pending_seconds == 40LL * 86'400);
    CHECK(m.audit_entries == 2);
    CHECK(status.health().ok);

    f.db.db().exec("PRAGMA user_version = 99");
    auto h = status.health();
    CHECK_FALSE(h.ok);
    CHECK(h.reason ==
          "database schema version 99, expected " + std::to_string(store::latest_schema_version()));
}

TEST_CASE("the counts kept by triggers agree with a full count after every kind of change",
          "[serve][metrics]") {
    StoreFixture f;
    f.workspaces = {"default", "eu"};
    const TimeMs now = f.clock.now_ms();
    for (int i = 0; i < 30; ++i) {
        auto r = f.request("R-" + std::to_string(i), "person" + std::to_string(i));
        r.received_at = now - (i % 3 == 0 ? 40LL : 1LL) * 86'400'000 - i * 1000;
        f.insert(r);
    }
    auto& db = f.db.db();
    // Every kind of change the triggers see: state, deadline (into the current hour, before
    // and after now), erasure state and verified, a deletion.
    db.exec("UPDATE requests SET state = 'dead' WHERE id % 5 = 1");
    db.exec("UPDATE requests SET state = 'cancelled' WHERE id % 7 = 2");
    db.exec("UPDATE requests SET state = 'done', identifier = NULL WHERE id % 4 = 3");
    db.exec("UPDATE requests SET state = 'suppressed' WHERE id = 8");
    db.exec("UPDATE requests SET state = 'pending' WHERE id IN (1, 2)"); // dead, cancelled
    db.exec("UPDATE requests SET deadline_at = " + std::to_string(now - 1000) + " WHERE id = 10");
    db.exec("UPDATE requests SET deadline_at = " + std::to_string(now + 1000) + " WHERE id = 14");
    db.exec("UPDATE erasures SET state = 'done', verified = 0 WHERE id % 3 = 0");
    db.exec("UPDATE erasures SET state = 'suppressed' WHERE id % 3 = 1");
    db.exec("UPDATE erasures SET verified = 1 WHERE id % 9 = 0");
    db.exec("DELETE FROM erasure_profiles");
    db.exec("DELETE FROM erasures WHERE request = 30");
    db.exec("DELETE FROM requests WHERE id = 30");

    const store::StatusSummary full = store::RequestQueue(f.db, f.clock).status();
    const store::MetricCounts kept = store::read_metric_counts(f.db, now);
    CHECK(kept.requests == full.counts);
    CHECK(kept.erasures == full.by_workspace);
    CHECK(kept.overdue == full.overdue);
    CHECK(kept.oldest_pending_received_at == full.oldest_pending_received_at);
    CHECK(kept.overdue > 0);
    CHECK(kept.erasures.at("eu").at("unverified") > 0);
    // Nothing is left counted at zero in the deadline table.
    CHECK(f.count("SELECT count(*) FROM open_deadlines WHERE n <= 0") == 0);
}
