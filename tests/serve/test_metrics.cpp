#include "../store/fixture.hpp"
#include "serve/database_status.hpp"
#include "serve/metrics.hpp"
#include "store/claims.hpp"
#include "store/metrics_queries.hpp"

#include <catch2/catch.hpp>

using namespace lethe;
using lethe::test::StoreFixture;

namespace {

bool contains(const std::string& text, const std::string& line) {
    return text.find(line) != std::string::npos;
}

store::CallRecord call(const std::string& name, long status, const std::string& outcome) {
    return {name, status, outcome, outcome == "success" ? "" : "HTTP error", 12, false};
}

} // namespace

TEST_CASE("metrics render in the Prometheus text format", "[serve][metrics]") {
    serve::MetricsSnapshot m;
    m.requests_by_state = {{"pending", 3}, {"done", 10}};
    m.calls.calls[{"suppress", "200"}] = 11;
    m.calls.calls[{"destroy", "none"}] = 2;
    m.calls.erasures = 10;
    m.calls.retries = 4;
    m.oldest_pending_seconds = 86400;
    m.overdue = 1;
    m.audit_entries = 57;
    const std::string text = serve::render_metrics(m);
    CHECK(contains(text, "# HELP lethe_requests "));
    CHECK(contains(text, "# TYPE lethe_requests gauge\n"));
    CHECK(contains(text, "\nlethe_requests{state=\"pending\"} 3\n"));
    CHECK(contains(text, "\nlethe_requests{state=\"done\"} 10\n"));
    CHECK(contains(text, "# TYPE lethe_erasures_total counter\nlethe_erasures_total 10\n"));
    CHECK(contains(text, "# TYPE lethe_api_calls_total counter\n"));
    CHECK(contains(text, "\nlethe_api_calls_total{call=\"suppress\",code=\"200\"} 11\n"));
    CHECK(contains(text, "\nlethe_api_calls_total{call=\"destroy\",code=\"none\"} 2\n"));
    CHECK(contains(text, "# TYPE lethe_retries_total counter\nlethe_retries_total 4\n"));
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

    auto r1 = queue.claim(60'000);
    REQUIRE(r1);
    REQUIRE(queue.record_retry(*r1, call("suppress", 503, "retryable"), f.clock.now_ms()));
    auto again = queue.claim(60'000);
    REQUIRE(again);
    REQUIRE(queue.record_suppressed(*again, call("suppress", 200, "success")));
    again->state = "suppressed";
    REQUIRE(queue.record_done(*again, call("destroy", 200, "success")));

    store::tally_calls(f.db, tally);
    CHECK(tally.calls[{"suppress", "503"}] == 1);
    CHECK(tally.calls[{"suppress", "200"}] == 1);
    CHECK(tally.calls[{"destroy", "200"}] == 1);
    CHECK(tally.retries == 1);
    CHECK(tally.erasures == 1);
    CHECK(tally.last_seq == store::audit_entry_count(f.db));

    // Nothing new: the totals stay; a network failure counts as code "none".
    store::tally_calls(f.db, tally);
    CHECK(tally.calls[{"suppress", "200"}] == 1);
    auto r2 = queue.claim(60'000);
    REQUIRE(r2);
    const store::CallRecord failed = call("suppress", 0, "permanent");
    REQUIRE(queue.record_dead(*r2, &failed, "gave up"));
    store::tally_calls(f.db, tally);
    CHECK(tally.calls[{"suppress", "none"}] == 1);
    CHECK(tally.retries == 1);

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
    CHECK(m.requests_by_state.size() == 5);
    CHECK(m.overdue == 1);
    CHECK(m.oldest_pending_seconds == 40LL * 86'400);
    CHECK(m.audit_entries == 2);
    CHECK(status.health().ok);

    f.db.db().exec("PRAGMA user_version = 99");
    auto h = status.health();
    CHECK_FALSE(h.ok);
    CHECK(h.reason == "database schema version 99, expected 1");
}
