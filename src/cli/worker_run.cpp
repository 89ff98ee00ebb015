#include "cli/worker_run.hpp"

#include "audit/checkpoint.hpp"
#include "cli/witnessing.hpp"
#include "util/error.hpp"
#include "util/time.hpp"

#include <iostream>
#include <optional>
#include <spdlog/spdlog.h>
#include <thread>
#include <unistd.h>

namespace lethe::cli {
namespace {

std::string worker_name() {
    char host[256] = "unknown";
    ::gethostname(host, sizeof host - 1);
    return std::string(host) + ":" + std::to_string(::getpid());
}

worker::WorkerSettings settings_from(const config::WorkerSection& w, const std::string& workspace,
                                     bool once, worker::StartBudget* budget) {
    worker::WorkerSettings s;
    s.workspace = workspace;
    s.pacing_ms = w.pacing_ms;
    s.concurrency = w.concurrency;
    s.lease_ms = w.lease_seconds * 1000;
    s.retry = {w.backoff_base_ms, w.backoff_max_ms, w.max_attempts};
    s.poll_interval_ms = w.poll_interval_ms;
    s.verify_window_ms = w.verify_window_s * 1000;
    s.once = once;
    s.budget = budget;
    s.progress = once && ::isatty(STDERR_FILENO) != 0;
    return s;
}

void print_report(const worker::WorkerReport& r) {
    std::cout << "erased " << r.erased << ", retries scheduled " << r.retries << ", dead " << r.dead
              << ", released " << r.released << " (" << r.stop_reason << ")\n";
    if (r.outlook.waiting_retry > 0 && r.outlook.next_attempt_at) {
        std::cout << r.outlook.waiting_retry << " erasure"
                  << (r.outlook.waiting_retry == 1 ? "" : "s")
                  << " waiting for a later retry; next at "
                  << format_iso8601(*r.outlook.next_attempt_at) << "\n";
    }
}

ExitCode exit_code_of(worker::HaltKind kind) {
    switch (kind) {
    case worker::HaltKind::credentials:
        return ExitCode::auth;
    case worker::HaltKind::pin:
        return ExitCode::pin_mismatch;
    case worker::HaltKind::unreachable:
        return ExitCode::unreachable;
    default:
        return ExitCode::failure;
    }
}

// The sum of the workers' reports; the first halt (in workspace order) is the run's.
worker::WorkerReport combine(const std::vector<worker::WorkerReport>& reports) {
    worker::WorkerReport total;
    bool all_drained = !reports.empty();
    bool any_max = false;
    for (const auto& r : reports) {
        total.started += r.started;
        total.erased += r.erased;
        total.retries += r.retries;
        total.dead += r.dead;
        total.released += r.released;
        total.outlook.add(r.outlook);
        if (r.halted && !total.halted) {
            total.halted = true;
            total.halt = r.halt;
            total.halt_reason = r.halt_reason;
        }
        if (!r.unreachable_reason.empty() && total.unreachable_reason.empty()) {
            total.unreachable_reason = r.unreachable_reason;
        }
        all_drained = all_drained && (r.stop_reason == "drained" || r.stop_reason == "unreachable");
        any_max = any_max || r.stop_reason == "max";
    }
    total.stop_reason = total.halted  ? "halt"
                        : any_max     ? "max"
                        : all_drained ? "drained"
                                      : "signal";
    return total;
}

} // namespace

WorkerRun::WorkerRun(Context& ctx, bool once, std::int64_t max)
    : m_ctx(ctx), m_once(once), m_queue(ctx.database(), ctx.clock(), worker_name()) {
    const auto& cfg = ctx.config();
    if (cfg.workspaces.empty()) {
        throw ConfigError(cfg.source.string() +
                          ": no Customer.io workspace is configured: add a [[workspace]] table "
                          "(or a [customerio] section)");
    }
    if (max > 0) {
        m_budget.emplace(max);
    }
    for (const auto& ws : cfg.workspaces) {
        Lane lane;
        lane.api = std::make_unique<TrackApi>(cfg, ws, ctx.clock());
        lane.worker = std::make_unique<worker::Worker>(
            m_queue, lane.api->factory(),
            settings_from(cfg.worker, ws.name, once, m_budget ? &*m_budget : nullptr), ctx.clock(),
            m_sleeper, m_random);
        TrackApi* api = lane.api.get();
        lane.worker->set_credential_reloader([api] { return api->reload_credentials(); });
        lane.worker->set_pin_checker([api] { return api->pin(); });
        lane.worker->set_verify_api_factory(api->verify_factory());
        if (!api->verifies()) {
            spdlog::warn("workspace {}: no App API key, so its erasures cannot be verified: they "
                         "are recorded as unverified (see docs/verification.md)",
                         ws.name);
        }
        m_lanes.push_back(std::move(lane));
    }
}

WorkerRun::~WorkerRun() = default;

void WorkerRun::request_stop() {
    for (auto& lane : m_lanes) {
        lane.worker->request_stop();
    }
}

void WorkerRun::reload_credentials() {
    for (auto& lane : m_lanes) {
        lane.api->reload_credentials();
    }
}

worker::WorkerReport WorkerRun::run() {
    const auto& cfg = m_ctx.config();
    auto plan = store::retry_while_busy([&] { return m_queue.plan(config::workspace_names(cfg)); },
                                        say_database_busy);
    if (plan.upgraded > 0 || plan.added > 0) {
        spdlog::info("planned erasures: {} request(s) without erasures got theirs, {} erasure(s) "
                     "added in workspaces their requests lacked",
                     plan.upgraded, plan.added);
    }
    spdlog::info("worker {} started ({} mode, {} workspace(s), pacing {} ms and concurrency {} "
                 "each)",
                 m_queue.owner(), m_once ? "once" : "service", m_lanes.size(), cfg.worker.pacing_ms,
                 cfg.worker.concurrency);
    std::vector<worker::WorkerReport> reports(m_lanes.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < m_lanes.size(); ++i) {
        threads.emplace_back([this, i, &reports] {
            try {
                reports[i] = m_lanes[i].worker->run();
            } catch (const std::exception& e) {
                // A backstop: an error escaping a worker is a halt with its reason, never
                // std::terminate.
                reports[i].halted = true;
                reports[i].halt = worker::HaltKind::database;
                reports[i].halt_reason = std::string("database: ") + e.what();
                reports[i].stop_reason = "halt";
            }
            if (reports[i].halted) {
                // A halt is an operator's problem (a key, a pin, the disk): stop everything.
                request_stop();
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    return combine(reports);
}

int WorkerRun::finish(const worker::WorkerReport& report) {
    // The checkpoint comes after the work; when it cannot be written (the disk that halted the
    // worker is full), the report and the halt reason are still what the operator must see.
    std::optional<Error> checkpoint_error;
    try {
        auto checkpoint = audit::write_checkpoint(m_ctx.database(), m_ctx.config(), m_ctx.clock());
        spdlog::info("checkpoint written to {}", checkpoint.string());
        witness_latest_checkpoint(m_ctx, false);
    } catch (const Error& e) {
        checkpoint_error.emplace(e.code(), std::string("checkpoint not written: ") + e.what());
    } catch (const std::exception& e) {
        checkpoint_error.emplace(ExitCode::database,
                                 std::string("checkpoint not written: database: ") + e.what());
    }
    print_report(report);
    if (report.halted) {
        if (checkpoint_error) {
            spdlog::error("{}", checkpoint_error->what());
        }
        throw Error(exit_code_of(report.halt), "worker halted: " + report.halt_reason);
    }
    if (!report.unreachable_reason.empty()) {
        if (checkpoint_error) {
            spdlog::error("{}", checkpoint_error->what());
        }
        // The other workspaces were erased; this one's erasures wait for the next run.
        throw Error(ExitCode::unreachable,
                    report.unreachable_reason + "; its erasures wait for the next run");
    }
    if (checkpoint_error) {
        throw *checkpoint_error;
    }
    return 0;
}

} // namespace lethe::cli
