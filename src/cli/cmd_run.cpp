#include "cli/command.hpp"
#include "cli/worker_run.hpp"
#include "worker/signals.hpp"

namespace lethe::cli {
namespace {

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
        WorkerRun worker(ctx, m_once, m_max);
        worker::WorkerReport report;
        {
            // Signals are blocked before the worker's threads start, so only this watcher sees
            // them.
            worker::SignalWatcher signals([&worker] { worker.request_stop(); },
                                          [&worker] { worker.reload_credentials(); });
            report = worker.run();
        }
        return worker.finish(report);
    }

private:
    bool m_once = false;
    std::int64_t m_max = 0;
};

} // namespace

std::unique_ptr<Command> make_run_command() {
    return std::make_unique<RunCommand>();
}

} // namespace lethe::cli
