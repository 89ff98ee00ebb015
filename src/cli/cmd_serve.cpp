#include "callback/loop.hpp"
#include "cli/checkpoint_loop.hpp"
#include "cli/command.hpp"
#include "cli/worker_run.hpp"
#include "config/secrets.hpp"
#include "intake/admission.hpp"
#include "serve/admission_sink.hpp"
#include "serve/group_commit.hpp"
#include "serve/server.hpp"
#include "store/request_views.hpp"
#include "store/sealing.hpp"
#include "store/wal_scrub.hpp"
#include "worker/signals.hpp"

#include <iostream>
#include <mutex>
#include <spdlog/spdlog.h>
#include <thread>

namespace lethe::cli {
namespace {

// Status queries, on a connection of their own.
class ViewReader final : public serve::RequestReader {
public:
    explicit ViewReader(const config::Config& cfg)
        : m_db(cfg.database.path, store::OpenMode::existing) {}

    std::optional<store::RequestView> find(std::string_view sender,
                                           std::string_view request_id) override {
        std::lock_guard lock(m_mutex);
        return store::find_sender_request(m_db.db(), sender, request_id);
    }

private:
    store::Database m_db;
    std::mutex m_mutex;
};

// Every sender with its secrets, as the intake checks them. Throws ConfigError.
std::vector<serve::Sender> load_senders(const config::Config& cfg) {
    std::vector<serve::Sender> out;
    for (auto& resolved : config::resolve_all_sender_secrets(cfg)) {
        serve::Sender s;
        s.name = resolved.sender->name;
        s.scopes = resolved.sender->scopes;
        s.callback = !resolved.sender->callback_url.empty();
        s.secrets = std::move(resolved.secrets.keys);
        spdlog::debug("intake sender {}: {} key{} from {}", s.name, s.secrets.size(),
                      s.secrets.size() == 1 ? "" : "s", resolved.secrets.origin);
        out.push_back(std::move(s));
    }
    return out;
}

// SIGHUP: the configuration file read again for its senders: their names, scopes and callback
// URLs (a revoked scope is refused from the next request on). Other settings take effect at the
// next start. nullopt when the file no longer loads: the running senders stay, and their
// secrets are still re-read.
std::optional<config::Config> reread_config(const std::filesystem::path& path) {
    try {
        return config::load_config(path);
    } catch (const std::exception& e) {
        spdlog::error("the configuration could not be read again, keeping the running senders "
                      "and scopes: {}",
                      e.what());
        return std::nullopt;
    }
}

// SIGHUP: the senders of `cfg` with their re-read secrets for the next requests; a failed
// re-read keeps the current ones (of every sender: a half-applied reload would be harder to
// reason about).
void reload_intake_senders(const config::Config& cfg, serve::SenderRing& senders) {
    try {
        auto fresh = load_senders(cfg);
        const auto count = fresh.size();
        senders.replace(std::move(fresh));
        spdlog::info("intake senders and secrets re-read: {} sender{}", count,
                     count == 1 ? "" : "s");
    } catch (const std::exception& e) {
        spdlog::error("intake secrets could not be re-read, keeping the current ones: {}",
                      e.what());
    }
}

// Where SIGHUP sends the senders' re-read secrets for callbacks: the running CallbackLoop, while
// it runs (the signal thread starts before it and outlives it).
struct CallbackReload {
    std::mutex mutex;
    callback::CallbackLoop* loop = nullptr;

    // Attaches `loop` for the lifetime of this guard.
    struct Attached {
        Attached(CallbackReload& r, callback::CallbackLoop& loop) : reload(r) {
            std::lock_guard lock(reload.mutex);
            reload.loop = &loop;
        }
        ~Attached() {
            std::lock_guard lock(reload.mutex);
            reload.loop = nullptr;
        }
        Attached(const Attached&) = delete;
        Attached& operator=(const Attached&) = delete;
        CallbackReload& reload;
    };
};

// SIGHUP: callbacks are signed with the senders' re-read secrets from the next attempt on; a
// failed re-read keeps the current ones.
void reload_callback_secrets(const config::Config& cfg, CallbackReload& reload) {
    try {
        auto targets = callback::callback_targets(cfg);
        std::lock_guard lock(reload.mutex);
        if (reload.loop != nullptr) {
            reload.loop->reload(std::move(targets));
        }
    } catch (const std::exception& e) {
        spdlog::error("callback secrets could not be re-read, keeping the current ones: {}",
                      e.what());
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
                   "senders (names, scopes, callback URLs) from the configuration file, every "
                   "secret, and the Track API credentials.");
        app.add_flag("--with-worker", m_with_worker,
                     "Also run the erasure worker (as `lethe run`) in this process");
    }

    int run(Context& ctx) override {
        const auto& cfg = ctx.config();
        serve::SenderRing senders(load_senders(cfg));
        auto digester = intake::load_digester(cfg.audit.subject_key_file);
        store::retry_while_busy([&] {
            seal_stale_identifiers(ctx.database());
            finish_stopped_imports(ctx);
            return 0;
        });
        intake::upgrade_subject_digests(ctx.database(), ctx.clock(), digester);
        serve::AdmissionSink admitter(cfg.database.path, identifier_cipher_loader(cfg), ctx.clock(),
                                      std::move(digester), config::workspace_names(cfg));
        serve::GroupCommitSink sink(admitter);
        store::Database status_db(cfg.database.path, store::OpenMode::existing);
        store::Database health_db(cfg.database.path, store::OpenMode::existing);
        serve::DatabaseStatus status(status_db, health_db, ctx.clock());
        status.set_witnesses(config::witness_names(cfg), cfg.audit.witness_quorum);
        ViewReader reader(cfg);
        serve::IntakeHandler handler(senders, sink, reader, ctx.clock(), cfg.intake.max_body_bytes);
        serve::IntakeServer server(server_settings(cfg.intake), handler, status);
        std::optional<WorkerRun> worker;
        if (m_with_worker) {
            worker.emplace(ctx, false, 0);
        }
        worker::WorkerReport report;
        CallbackReload callback_reload;
        // The configuration whose senders are applied: the file as SIGHUP last read it.
        std::optional<config::Config> reread;
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
                    if (auto fresh =
                            reread_config(config::config_path(ctx.options().config_file))) {
                        reread = std::move(fresh);
                    }
                    const config::Config& applied = reread ? *reread : cfg;
                    reload_intake_senders(applied, senders);
                    reload_callback_secrets(applied, callback_reload);
                    if (worker) {
                        worker->reload_credentials();
                    }
                });
            store::WalScrubber scrubber(cfg.database.path,
                                        std::chrono::seconds(cfg.database.scrub_interval_s));
            callback::CallbackLoop callbacks(cfg.database.path, callback::callback_targets(cfg));
            CallbackReload::Attached attached(callback_reload, callbacks);
            CheckpointLoop checkpoints(cfg, ctx.clock());
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
