#include "cli/command.hpp"
#include "cli/worker_run.hpp"
#include "config/secrets.hpp"
#include "intake/admission.hpp"
#include "serve/server.hpp"
#include "store/sealing.hpp"
#include "store/wal_scrub.hpp"
#include "worker/signals.hpp"

#include <iostream>
#include <mutex>
#include <spdlog/spdlog.h>
#include <thread>

namespace lethe::cli {
namespace {

// Admits HTTP requests exactly as `lethe import` admits CSV rows, one committed transaction per
// request, on a connection of its own (the worker keeps the context's connection).
class AdmissionSink final : public serve::RequestSink {
public:
    AdmissionSink(const config::Config& cfg, const Clock& clock, audit::SubjectDigester digester)
        : m_db(cfg.database.path, store::OpenMode::existing), m_clock(clock),
          m_digester(std::move(digester)), m_workspaces(config::workspace_names(cfg)) {
        m_db.set_cipher_loader(identifier_cipher_loader(cfg));
    }

    serve::Admitted admit(const intake::RawRequest& raw) override {
        using Outcome = serve::Admitted::Outcome;
        // One writer at a time on this connection; SQLite serialises writers anyway.
        std::lock_guard lock(m_mutex);
        intake::Admission admission(m_db, m_clock, m_digester, m_workspaces);
        serve::Admitted a;
        if (auto reason = admission.admit(raw, "http")) {
            a.reason = *reason;
            // A fresh Admission reports `conflict` as its last outcome only for a known
            // request_id with other content; any other refusal is a validation failure.
            if (admission.last().outcome == store::InsertOutcome::conflict) {
                a.outcome = Outcome::conflict;
                a.request_id = admission.last_request_id();
                a.subject_digest = admission.last_subject_digest();
            }
            return a; // rolled back: nothing was written
        }
        admission.commit();
        const auto& last = admission.last();
        a.outcome = last.outcome == store::InsertOutcome::created  ? Outcome::created
                    : last.outcome == store::InsertOutcome::linked ? Outcome::linked
                                                                   : Outcome::known;
        a.request_id = admission.last_request_id();
        a.linked_to = last.linked_to;
        a.subject_digest = admission.last_subject_digest();
        return a;
    }

private:
    store::Database m_db;
    const Clock& m_clock;
    audit::SubjectDigester m_digester;
    std::vector<std::string> m_workspaces;
    std::mutex m_mutex;
};

// SIGHUP: new secrets for the next requests; a failed re-read keeps the current ones.
void reload_intake_secrets(const config::Config& cfg, serve::KeyRing& keys) {
    try {
        auto fresh = config::resolve_intake_secrets(cfg);
        const auto count = fresh.keys.size();
        keys.replace(std::move(fresh.keys));
        spdlog::info("intake secret re-read: {} key{} from {}", count, count == 1 ? "" : "s",
                     fresh.origin);
    } catch (const std::exception& e) {
        spdlog::error("intake secret could not be re-read, keeping the current one: {}", e.what());
    }
}

serve::ServerSettings server_settings(const config::IntakeSection& in) {
    serve::ServerSettings s;
    s.address = *net::parse_listen_address(in.listen); // checked by the config reader
    s.tls_cert_file = in.tls_cert_file;
    s.tls_key_file = in.tls_key_file;
    s.max_body_bytes = in.max_body_bytes;
    return s;
}

// `lethe serve [--with-worker]`.
class ServeCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.footer("Accepts signed erasure requests over HTTP (POST /v1/erasure-requests; "
                   "docs/intake.md) and serves GET /healthz and GET /metrics, on [intake] "
                   "listen. Prints \"lethe serve listening on URL\" once it accepts connections. "
                   "SIGTERM or SIGINT: stop accepting, answer the requests in progress (each is "
                   "committed before its answer), stop the worker, exit 0. SIGHUP: re-read the "
                   "intake secret and the Track API credentials.");
        app.add_flag("--with-worker", m_with_worker,
                     "Also run the erasure worker (as `lethe run`) in this process");
    }

    int run(Context& ctx) override {
        const auto& cfg = ctx.config();
        serve::KeyRing keys(config::resolve_intake_secrets(cfg).keys);
        auto digester = intake::load_digester(cfg.audit.subject_key_file);
        store::retry_while_busy([&] {
            seal_stale_identifiers(ctx.database());
            finish_stopped_imports(ctx);
            return 0;
        });
        intake::upgrade_subject_digests(ctx.database(), ctx.clock(), digester);
        AdmissionSink sink(cfg, ctx.clock(), std::move(digester));
        store::Database status_db(cfg.database.path, store::OpenMode::existing);
        store::Database health_db(cfg.database.path, store::OpenMode::existing);
        serve::DatabaseStatus status(status_db, health_db, ctx.clock());
        serve::IntakeHandler handler(keys, sink, ctx.clock(), cfg.intake.max_body_bytes);
        serve::IntakeServer server(server_settings(cfg.intake), handler, status);
        std::optional<WorkerRun> worker;
        if (m_with_worker) {
            worker.emplace(ctx, false, 0);
        }
        worker::WorkerReport report;
        {
            // Before any thread starts, so only the watcher sees the signals.
            worker::SignalWatcher signals(
                [&] {
                    server.stop();
                    if (worker) {
                        worker->request_stop();
                    }
                },
                [&] {
                    reload_intake_secrets(cfg, keys);
                    if (worker) {
                        worker->reload_credentials();
                    }
                });
            store::WalScrubber scrubber(cfg.database.path,
                                        std::chrono::seconds(cfg.database.scrub_interval_s));
            const std::string url = server.bind();
            std::cout << "lethe serve listening on " << url << std::endl;
            spdlog::info("intake listening on {}{}", url, worker ? " (with the worker)" : "");
            report = serve_until_stopped(server, worker);
        }
        spdlog::info("intake stopped");
        return worker ? worker->finish(report) : 0;
    }

private:
    // Serves; with a worker, the worker runs on this thread and a halted worker (refused
    // credentials) stops the intake too, so the service exits with the worker's code.
    static worker::WorkerReport serve_until_stopped(serve::IntakeServer& server,
                                                    std::optional<WorkerRun>& worker) {
        if (!worker) {
            server.run();
            return {};
        }
        std::thread http([&] {
            server.run();
            worker->request_stop();
        });
        worker::WorkerReport report = worker->run();
        server.stop();
        http.join();
        return report;
    }

    bool m_with_worker = false;
};

} // namespace

std::unique_ptr<Command> make_serve_command() {
    return std::make_unique<ServeCommand>();
}

} // namespace lethe::cli
