#include "cli/worker_run.hpp"

#include "audit/checkpoint.hpp"
#include "util/error.hpp"
#include "util/time.hpp"

#include <iostream>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace lethe::cli {
namespace {

std::string worker_name() {
    char host[256] = "unknown";
    ::gethostname(host, sizeof host - 1);
    return std::string(host) + ":" + std::to_string(::getpid());
}

worker::WorkerSettings settings_from(const config::WorkerSection& w, bool once, std::int64_t max) {
    worker::WorkerSettings s;
    s.pacing_ms = w.pacing_ms;
    s.concurrency = w.concurrency;
    s.lease_ms = w.lease_seconds * 1000;
    s.retry = {w.backoff_base_ms, w.backoff_max_ms, w.max_attempts};
    s.poll_interval_ms = w.poll_interval_ms;
    s.once = once;
    s.max_erasures = max;
    s.progress = once && ::isatty(STDERR_FILENO) != 0;
    return s;
}

void print_report(const worker::WorkerReport& r) {
    std::cout << "erased " << r.erased << ", retries scheduled " << r.retries << ", dead " << r.dead
              << ", released " << r.released << " (" << r.stop_reason << ")\n";
    if (r.outlook.waiting_retry > 0 && r.outlook.next_attempt_at) {
        std::cout << r.outlook.waiting_retry << " request"
                  << (r.outlook.waiting_retry == 1 ? "" : "s")
                  << " waiting for a later retry; next at "
                  << format_iso8601(*r.outlook.next_attempt_at) << "\n";
    }
}

} // namespace

// TODO(issue 14): one per workspace; until the worker fans out, it erases in the first one.
WorkerRun::WorkerRun(Context& ctx, bool once, std::int64_t max)
    : m_ctx(ctx), m_once(once), m_api(ctx.config(), first_workspace(ctx.config()), ctx.clock()),
      m_queue(ctx.database(), ctx.clock(), worker_name()),
      m_worker(m_queue, m_api.factory(), settings_from(ctx.config().worker, once, max), ctx.clock(),
               m_sleeper, m_random) {
    m_worker.set_credential_reloader([this] { return m_api.reload_credentials(); });
}

worker::WorkerReport WorkerRun::run() {
    const auto& w = m_ctx.config().worker;
    spdlog::info("worker {} started ({} mode, pacing {} ms, concurrency {})", m_queue.owner(),
                 m_once ? "once" : "service", w.pacing_ms, w.concurrency);
    return m_worker.run();
}

int WorkerRun::finish(const worker::WorkerReport& report) {
    auto checkpoint = audit::write_checkpoint(m_ctx.database(), m_ctx.config(), m_ctx.clock());
    spdlog::info("checkpoint written to {}", checkpoint.string());
    print_report(report);
    if (report.halted) {
        throw Error(report.halt_reason.find("credentials") != std::string::npos ? ExitCode::auth
                                                                                : ExitCode::failure,
                    "worker halted: " + report.halt_reason);
    }
    return 0;
}

} // namespace lethe::cli
