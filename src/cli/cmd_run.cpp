#include "audit/checkpoint.hpp"
#include "cli/command.hpp"
#include "cli/track_api.hpp"
#include "store/claims.hpp"
#include "util/error.hpp"
#include "util/time.hpp"
#include "worker/signals.hpp"
#include "worker/worker.hpp"

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

worker::WorkerSettings settings_from(const config::WorkerSection& w) {
    worker::WorkerSettings s;
    s.pacing_ms = w.pacing_ms;
    s.concurrency = w.concurrency;
    s.lease_ms = w.lease_seconds * 1000;
    s.retry = {w.backoff_base_ms, w.backoff_max_ms, w.max_attempts};
    s.poll_interval_ms = w.poll_interval_ms;
    return s;
}

// `lethe run [--once] [--max N]`.
class RunCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.footer("Erases each queued person from Customer.io: suppress, then destroy. With "
                   "--once (cron) it processes everything due now and exits, reporting what "
                   "waits for a later retry; without it, it keeps polling as a service. SIGTERM "
                   "or SIGINT: stop claiming, let in-flight calls finish, release leases, exit "
                   "0. SIGHUP: re-read the credentials. Exit code 6 when Customer.io refuses "
                   "the credentials (no request is failed or charged for it).");
        app.add_flag("--once", m_once, "Drain what is due now, then exit (for cron)");
        app.add_option("--max", m_max, "Stop after N erasures")->check(CLI::PositiveNumber);
    }

    int run(Context& ctx) override {
        const auto& cfg = ctx.config();
        TrackApi api(cfg, ctx.clock());
        store::WorkerQueue queue(ctx.database(), ctx.clock(), worker_name());
        auto settings = settings_from(cfg.worker);
        settings.once = m_once;
        settings.max_erasures = m_max;
        settings.progress = m_once && ::isatty(STDERR_FILENO) != 0;
        SystemSleeper sleeper;
        SystemRandom random;
        worker::Worker worker(queue, api.factory(), settings, ctx.clock(), sleeper, random);
        worker.set_credential_reloader([&api] { return api.reload_credentials(); });
        worker::WorkerReport report;
        {
            // Signals are blocked before the worker's threads start, so only this watcher sees
            // them.
            worker::SignalWatcher signals([&worker] { worker.request_stop(); },
                                          [&api] { api.reload_credentials(); });
            spdlog::info("worker {} started ({} mode, pacing {} ms, concurrency {})", queue.owner(),
                         m_once ? "once" : "service", settings.pacing_ms, settings.concurrency);
            report = worker.run();
        }
        auto checkpoint = audit::write_checkpoint(ctx.database(), cfg, ctx.clock());
        spdlog::info("checkpoint written to {}", checkpoint.string());
        print_report(report);
        if (report.halted) {
            throw Error(report.halt_reason.find("credentials") != std::string::npos
                            ? ExitCode::auth
                            : ExitCode::failure,
                        "worker halted: " + report.halt_reason);
        }
        return 0;
    }

private:
    static void print_report(const worker::WorkerReport& r) {
        std::cout << "erased " << r.erased << ", retries scheduled " << r.retries << ", dead "
                  << r.dead << ", released " << r.released << " (" << r.stop_reason << ")\n";
        if (r.outlook.waiting_retry > 0 && r.outlook.next_attempt_at) {
            std::cout << r.outlook.waiting_retry << " request"
                      << (r.outlook.waiting_retry == 1 ? "" : "s")
                      << " waiting for a later retry; next at "
                      << format_iso8601(*r.outlook.next_attempt_at) << "\n";
        }
    }

    bool m_once = false;
    std::int64_t m_max = 0;
};

} // namespace

std::unique_ptr<Command> make_run_command() {
    return std::make_unique<RunCommand>();
}

} // namespace lethe::cli
