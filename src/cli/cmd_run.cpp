#include "cli/arguments.hpp"
#include "cli/command.hpp"
#include "cli/worker_run.hpp"
#include "intake/admission.hpp"
#include "store/sealing.hpp"
#include "store/wal_scrub.hpp"
#include "util/error.hpp"
#include "worker/signals.hpp"

#include <limits>
#include <optional>
#include <spdlog/spdlog.h>

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
        app.add_option("--max", m_max, "Stop after N erasures")
            ->transform(whole_number(1, std::numeric_limits<std::int64_t>::max()));
    }

    int run(Context& ctx) override {
        // Another writer (an import) may hold the lock for a while: wait, as the worker does.
        store::retry_while_busy(
            [&] {
                seal_stale_identifiers(ctx.database());
                redigest_if_possible(ctx);
                finish_stopped_imports(ctx);
                return 0;
            },
            say_database_busy);
        WorkerRun worker(ctx, m_once, m_max);
        worker::WorkerReport report;
        {
            // Signals are blocked before the worker's threads start, so only this watcher sees
            // them.
            worker::SignalWatcher signals([&worker] { worker.request_stop(); },
                                          [&worker] { worker.reload_credentials(); });
            store::WalScrubber scrubber(
                ctx.database().path(),
                std::chrono::seconds(ctx.config().database.scrub_interval_s));
            report = worker.run();
        }
        return worker.finish(report);
    }

private:
    // The worker needs no subject key, so an installation whose key `lethe run` cannot read still
    // erases; the re-digest then waits for the next init, import, enqueue or serve.
    static void redigest_if_possible(Context& ctx) {
        if (!store::redigest_needed(ctx.database())) {
            return;
        }
        std::optional<audit::SubjectDigester> digester;
        try {
            digester.emplace(intake::load_digester(ctx.config().audit.subject_key_file));
        } catch (const ConfigError& e) {
            spdlog::warn("subject digest v2 not applied yet (the subject key is needed): {}",
                         e.what());
            return;
        }
        intake::upgrade_subject_digests(ctx.database(), ctx.clock(), *digester);
    }

    bool m_once = false;
    std::int64_t m_max = 0;
};

} // namespace

std::unique_ptr<Command> make_run_command() {
    return std::make_unique<RunCommand>();
}

} // namespace lethe::cli
