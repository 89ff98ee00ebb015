// The metrics the alert rules of packaging/prometheus need (issue 19).
#include "../store/fixture.hpp"
#include "serve/database_status.hpp"
#include "serve/metrics.hpp"
#include "store/claims.hpp"
#include "store/metrics_queries.hpp"
#include "util/json_writer.hpp"

#include <catch2/catch.hpp>

using namespace lethe;
using lethe::test::StoreFixture;

namespace {

constexpr TimeMs k_day = 86'400'000;

bool contains(const std::string& text, const std::string& line) {
    return text.find(line) != std::string::npos;
}

void event(store::WorkerQueue& queue, const std::string& name, const std::string& workspace,
           const std::string& reason = "") {
    JsonWriter detail;
    detail.field("workspace", workspace);
    if (!reason.empty()) {
        detail.field("reason", reason);
    }
    queue.audit_event(name, detail.str());
}

} // namespace

TEST_CASE("at risk: not erased and due within 7 days; overdue and later ones are not",
          "[serve][metrics][ops]") {
    StoreFixture f;
    const TimeMs now = f.clock.now_ms();
    auto soon = f.request("SOON", "alice");
    soon.received_at = now - 26 * k_day; // a one-month deadline a few days ahead
    f.insert(soon);
    auto late = f.request("LATE", "bob");
    late.received_at = now - 40 * k_day; // overdue
    f.insert(late);
    f.insert(f.request("FRESH", "carol")); // a deadline four weeks ahead
    auto counts = store::read_metric_counts(f.db, now);
    CHECK(counts.at_risk == 1);
    CHECK(counts.overdue == 1);

    // Once the deadline is within the current hour it still counts (exactly, not by the hour).
    const TimeMs deadline = store::initial_deadline(soon.received_at);
    counts = store::read_metric_counts(f.db, deadline - 60'000);
    CHECK(counts.at_risk == 1);
    counts = store::read_metric_counts(f.db, deadline + 1);
    CHECK(counts.at_risk == 0);
    CHECK(counts.overdue == 2);
}

TEST_CASE("worker metrics: last seen, halted and pin failures per workspace, incrementally",
          "[serve][metrics][ops]") {
    StoreFixture f;
    store::WorkerQueue queue(f.db, f.clock, "test-worker");
    event(queue, "worker.started", "eu");
    event(queue, "workspace.pin_failed", "eu", "environment_mismatch");
    event(queue, "worker.halted", "eu", "halt");
    f.clock.advance(5'000);
    event(queue, "worker.started", "default");
    event(queue, "worker.stopped", "default", "drained");

    store::WorkerTally tally;
    store::tally_workers(f.db, tally);
    REQUIRE(tally.workspaces.size() == 2);
    const auto& eu = tally.workspaces.at("eu");
    CHECK(eu.halted);
    CHECK(eu.pin_failing);
    CHECK(eu.pin_failures == 1);
    const auto& def = tally.workspaces.at("default");
    CHECK_FALSE(def.halted);
    CHECK_FALSE(def.pin_failing);
    CHECK(def.last_seen_ms / 1000 == f.clock.now_ms() / 1000);
    CHECK(eu.last_seen_ms < def.last_seen_ms);

    // The operator fixed the pin: the next run stops cleanly; only the new entries are read.
    const std::int64_t before = tally.last_seq;
    event(queue, "worker.started", "eu");
    event(queue, "worker.stopped", "eu", "drained");
    store::tally_workers(f.db, tally);
    CHECK(tally.last_seq == before + 2);
    CHECK_FALSE(tally.workspaces.at("eu").halted);
    CHECK_FALSE(tally.workspaces.at("eu").pin_failing);
    CHECK(tally.workspaces.at("eu").pin_failures == 1);

    store::WorkerTally full;
    store::tally_workers(f.db, full);
    CHECK(full.workspaces.at("eu").pin_failures == 1);
    CHECK(full.workspaces.at("default").last_seen_ms == def.last_seen_ms);
}

TEST_CASE("the alert metrics render, with the state filesystem from DatabaseStatus",
          "[serve][metrics][ops]") {
    StoreFixture f;
    store::WorkerQueue queue(f.db, f.clock, "test-worker");
    event(queue, "worker.started", "eu");
    event(queue, "workspace.pin_failed", "eu", "region_mismatch");
    event(queue, "worker.halted", "eu", "halt");
    serve::DatabaseStatus status(f.db, f.clock);
    auto m = status.metrics();
    REQUIRE(m.state_filesystem);
    CHECK(m.state_filesystem->size_bytes > 0);
    CHECK(m.state_filesystem->avail_bytes <= m.state_filesystem->size_bytes);
    m.at_risk = 3;
    const std::string text = serve::render_metrics(m);
    CHECK(contains(text, "# TYPE lethe_requests_at_risk gauge\nlethe_requests_at_risk 3\n"));
    CHECK(contains(text, "\nlethe_worker_halted{workspace=\"eu\"} 1\n"));
    CHECK(contains(text, "\nlethe_workspace_pin_failing{workspace=\"eu\"} 1\n"));
    CHECK(contains(text, "# TYPE lethe_workspace_pin_failures_total counter\n"
                         "lethe_workspace_pin_failures_total{workspace=\"eu\"} 1\n"));
    CHECK(contains(text, "\nlethe_worker_last_seen_timestamp_seconds{workspace=\"eu\"} " +
                             std::to_string(f.clock.now_ms() / 1000) + "\n"));
    CHECK(contains(text, "# TYPE lethe_state_filesystem_avail_bytes gauge\n"));
    CHECK(contains(text, "\nlethe_state_filesystem_size_bytes " +
                             std::to_string(m.state_filesystem->size_bytes) + "\n"));
}
