#include "audit/cosignature.hpp"
#include "cli/command.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "witness/server.hpp"
#include "witness/witness.hpp"
#include "worker/signals.hpp"

#include <condition_variable>
#include <iostream>
#include <mutex>
#include <spdlog/spdlog.h>

namespace lethe::cli {
namespace {

// `lethe witness init|serve`: a witness that a DPO or an auditor runs on a machine the operator
// of lethe does not control (docs/audit-format.md, "Witnesses").
class WitnessCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.require_subcommand(1);
        m_init = app.add_subcommand("init", "Create a witness key and print its verifier key");
        m_init->add_option("--key-file", m_key_file, "Where to write the key (mode 0600)")
            ->required();
        m_init->add_option("--name", m_name, "The witness's name, e.g. witness.example.org/dpo")
            ->required();
        m_serve = app.add_subcommand("serve", "Cosign checkpoints of the given logs (C2SP "
                                              "tlog-witness, POST /add-checkpoint)");
        m_serve->add_option("--listen", m_listen, "HOST:PORT (port 0: any free port)")->required();
        m_serve->add_option("--key-file", m_key_file, "The witness key (from `witness init`)")
            ->required();
        m_serve->add_option("--db", m_db, "The witness's state (SQLite; created when missing)")
            ->required();
        m_serve
            ->add_option("--log", m_logs,
                         "ORIGIN=VKEY of a log to witness (its `lethe audit public-key`); "
                         "repeatable")
            ->required();
        m_serve->add_option("--rate", m_rate, "Requests per second (default 10; bursts of 2x)")
            ->check(CLI::Range(0.1, 10'000.0));
        m_serve->footer("Prints \"lethe witness listening on URL\" once it accepts connections. "
                        "Cosigns a checkpoint only when it extends the last one cosigned for its "
                        "origin; SIGTERM or SIGINT stop it.");
    }

    int run(Context& ctx) override { return m_init->parsed() ? init() : serve(ctx); }

private:
    int init() {
        if (std::filesystem::exists(m_key_file)) {
            throw Error(ExitCode::usage, m_key_file + ": exists; a witness key is never replaced");
        }
        audit::WitnessKey key = [&] {
            try {
                return audit::generate_witness_key(m_name);
            } catch (const std::invalid_argument& e) {
                throw Error(ExitCode::usage, "--name: " + std::string(e.what()));
            }
        }();
        create_private_file(m_key_file, audit::witness_key_file_text(key));
        std::cout << audit::format_verifier_key(key.verifier) << "\n";
        return 0;
    }

    int serve(Context& ctx) {
        const auto address = net::parse_listen_address(m_listen);
        if (!address) {
            throw Error(ExitCode::usage, "--listen: expected HOST:PORT, got \"" + m_listen + "\"");
        }
        std::vector<witness::TrustedLog> logs;
        for (const auto& text : m_logs) {
            logs.push_back(witness::parse_trusted_log(text));
        }
        witness::Witness w(m_db, audit::load_witness_key(m_key_file), std::move(logs), ctx.clock());
        witness::WitnessServerSettings settings{*address, m_rate, 2 * m_rate};
        witness::WitnessServer server(w, settings, ctx.clock());
        std::mutex mutex;
        std::condition_variable cv;
        bool stop = false;
        worker::SignalWatcher signals(
            [&] {
                std::lock_guard lock(mutex);
                stop = true;
                cv.notify_all();
            },
            [] {});
        const std::string url = server.start();
        std::cout << "lethe witness listening on " << url << std::endl;
        spdlog::info("witness {} listening on {}", w.key().name, url);
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return stop; });
        server.stop();
        spdlog::info("witness stopped");
        return 0;
    }

    CLI::App* m_init = nullptr;
    CLI::App* m_serve = nullptr;
    std::string m_key_file;
    std::string m_name;
    std::string m_listen;
    std::string m_db;
    std::vector<std::string> m_logs;
    double m_rate = 10;
};

} // namespace

std::unique_ptr<Command> make_witness_command() {
    return std::make_unique<WitnessCommand>();
}

} // namespace lethe::cli
