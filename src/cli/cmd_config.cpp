#include "cli/command.hpp"
#include "config/secrets.hpp"
#include "util/error.hpp"

#include <filesystem>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace lethe::cli {
namespace {

// A TOML basic string literal.
std::string toml_string(std::string_view s) {
    static constexpr char k_digits[] = "0123456789ABCDEF";
    std::string out = "\"";
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out.push_back('\\');
            out.push_back(ch);
        } else if (c < 0x20 || c == 0x7f) {
            out += "\\u00";
            out.push_back(k_digits[c >> 4]);
            out.push_back(k_digits[c & 0x0f]);
        } else {
            out.push_back(ch);
        }
    }
    return out + "\"";
}

std::string masked(std::size_t size, const std::string& origin) {
    return "<set, " + std::to_string(size) + " bytes, from " + origin + ">";
}

std::string one_line(std::string_view s) {
    std::string out(s);
    for (char& ch : out) {
        if (ch == '\n' || ch == '\r') {
            ch = ' ';
        }
    }
    return out;
}

// `lethe config show`: the effective configuration with every secret masked.
class ConfigCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.require_subcommand(1);
        m_show = app.add_subcommand(
            "show", "Print the effective configuration; secrets are masked, with their source");
        m_show->footer(
            "Every key with its effective value (defaults filled in, relative paths resolved). "
            "Each secret is resolved, as the worker would, to say where it comes from and how "
            "long it is; its value is never printed. Exits 3 when a secret cannot be resolved.");
    }

    int run(Context& ctx) override {
        const config::Config& c = ctx.config();
        std::ostringstream out;
        int failures = 0;
        auto secret_line = [&](const std::string& key, auto&& resolve) {
            try {
                std::string shown =
                    resolve(); // before writing, so an error does not split the line
                out << key << " = " << shown << "\n";
            } catch (const Error& e) {
                ++failures;
                out << key << " = <error: " << one_line(e.what()) << ">\n";
            }
        };

        out << "# Effective configuration of "
            << (c.source.empty() ? std::string("(built-in defaults)") : c.source.string())
            << "\n# (defaults filled in, relative paths resolved, secrets masked)\n";

        out << "\n[database]\n";
        out << "path = " << toml_string(c.database.path.string()) << "\n";
        out << "identifier_key_file = " << toml_string(c.database.identifier_key_file.string())
            << "\n";
        secret_line("identifier_key", [&] {
            return key_file(config::k_identifier_key_credential, c.database.identifier_key_file);
        });
        out << "scrub_interval_s = " << c.database.scrub_interval_s << "\n";

        if (c.workspaces.empty()) {
            // Only the commands that call Customer.io need one: not an error here.
            out << "\n# no Customer.io workspace is configured ([[workspace]] or [customerio]); "
                   "needed by `lethe run` and `lethe check`\n";
        }
        for (const auto& ws : c.workspaces) {
            if (ws.from_customerio_section) {
                out << "\n[customerio] # workspace " << toml_string(ws.name) << "\n";
            } else {
                out << "\n[[workspace]]\n";
                out << "name = " << toml_string(ws.name) << "\n";
            }
            out << "region = " << toml_string(ws.region) << "\n";
            out << "track_url = " << toml_string(ws.track_url) << "\n";
            out << "app_url = " << toml_string(ws.app_url) << "\n";
            out << "site_id = " << toml_string(ws.site_id) << "\n";
            if (ws.environment_id) {
                out << "environment_id = " << *ws.environment_id << "\n";
            } else {
                out << "# environment_id = <not set; `lethe check` prints the workspace's>\n";
            }
            out << "api_key_file = " << toml_string(ws.api_key_file) << "\n";
            out << "api_key_command = " << toml_string(ws.api_key_command) << "\n";
            out << "api_key_env = " << toml_string(ws.api_key_env) << "\n";
            out << "api_key_command_timeout_ms = " << ws.api_key_command_timeout_ms << "\n";
            secret_line("api_key", [&] {
                auto s = config::resolve_track_api_key(c, ws);
                return masked(s.value.size(), s.origin);
            });
            out << "app_api_key_file = " << toml_string(ws.app_api_key_file) << "\n";
            out << "app_api_key_command = " << toml_string(ws.app_api_key_command) << "\n";
            out << "app_api_key_env = " << toml_string(ws.app_api_key_env) << "\n";
            secret_line("app_api_key", [&]() -> std::string {
                auto s = config::resolve_app_api_key(c, ws);
                if (!s) {
                    return "<not configured; without it erasures cannot be verified>";
                }
                return masked(s->value.size(), s->origin);
            });
            out << "timeout_ms = " << ws.timeout_ms << "\n";
            out << "allow_insecure_loopback = " << (ws.allow_insecure_loopback ? "true" : "false")
                << "\n";
            out << "ca_file = " << toml_string(ws.ca_file) << "\n";
        }

        const auto& w = c.worker;
        out << "\n[worker]\n";
        out << "pacing_ms = " << w.pacing_ms << "\n";
        out << "concurrency = " << w.concurrency << "\n";
        out << "lease_seconds = " << w.lease_seconds << "\n";
        out << "max_attempts = " << w.max_attempts << "\n";
        out << "backoff_base_ms = " << w.backoff_base_ms << "\n";
        out << "backoff_max_ms = " << w.backoff_max_ms << "\n";
        out << "poll_interval_ms = " << w.poll_interval_ms << "\n";
        out << "verify_window_s = " << w.verify_window_s << "\n";

        const auto& a = c.audit;
        out << "\n[audit]\n";
        out << "subject_key_file = " << toml_string(a.subject_key_file.string()) << "\n";
        secret_line("subject_key",
                    [&] { return key_file(config::k_subject_key_credential, a.subject_key_file); });
        out << "checkpoint_key_file = " << toml_string(a.checkpoint_key_file.string()) << "\n";
        secret_line("checkpoint_key", [&] {
            return key_file(config::k_checkpoint_key_credential, a.checkpoint_key_file);
        });
        out << "checkpoint_dir = " << toml_string(a.checkpoint_dir.string()) << "\n";
        if (a.origin.empty()) {
            out << "origin = " << toml_string("lethe/" + hostname()) << " # default\n";
        } else {
            out << "origin = " << toml_string(a.origin) << "\n";
        }

        const auto& in = c.intake;
        out << "\n[intake]\n";
        out << "listen = " << toml_string(in.listen) << "\n";
        out << "tls_cert_file = " << toml_string(in.tls_cert_file) << "\n";
        out << "tls_key_file = " << toml_string(in.tls_key_file) << "\n";
        out << "secret_file = " << toml_string(in.secret_file) << "\n";
        out << "secret_command = " << toml_string(in.secret_command) << "\n";
        out << "secret_env = " << toml_string(in.secret_env) << "\n";
        out << "secret_command_timeout_ms = " << in.secret_command_timeout_ms << "\n";
        out << "max_body_bytes = " << in.max_body_bytes << "\n";
        out << "allow_plain_http = " << (in.allow_plain_http ? "true" : "false") << "\n";
        for (const auto& sender : in.senders) {
            if (sender.from_intake_section) {
                continue;
            }
            out << "\n[[intake.sender]]\n";
            out << "name = " << toml_string(sender.name) << "\n";
            std::string scopes;
            for (auto [scope, text] : {std::pair{config::SenderScope::submit, "\"submit\""},
                                       std::pair{config::SenderScope::read, "\"read\""}}) {
                if (sender.has(scope)) {
                    scopes += (scopes.empty() ? "" : ", ") + std::string(text);
                }
            }
            out << "scopes = [" << scopes << "]\n";
            out << "callback_url = " << toml_string(sender.callback_url) << "\n";
            out << "callback_retry_hours = " << sender.callback_retry_hours << "\n";
            secret_line("secret", [&] {
                auto s = config::resolve_sender_secrets(c, sender);
                return "<set, " + std::to_string(s.keys.size()) +
                       (s.keys.size() == 1 ? " key" : " keys (current, next)") + ", from " +
                       s.origin + ">";
            });
        }
        if (in.senders.empty() || !in.senders.front().from_intake_section) {
            // Named senders: listed above.
        } else if (in.secret_file.empty() && in.secret_command.empty() && in.secret_env.empty() &&
                   config::secret_file_path(config::k_intake_secret_credential, "").empty()) {
            // Only `lethe serve` needs it: an unset intake secret is not an error here.
            out << "secret = <not configured; needed by `lethe serve` only>\n";
        } else {
            secret_line("secret", [&] {
                auto s = config::resolve_intake_secrets(c);
                return "<set, " + std::to_string(s.keys.size()) +
                       (s.keys.size() == 1 ? " key" : " keys (current, next)") + ", from " +
                       s.origin + ">";
            });
        }

        std::cout << out.str() << std::flush;
        if (failures > 0) {
            throw ConfigError(std::to_string(failures) + (failures == 1 ? " secret" : " secrets") +
                              " could not be resolved (see the <error: ...> lines above)");
        }
        return 0;
    }

private:
    // Describes a key file created by `lethe init` (or a systemd credential replacing it).
    static std::string key_file(const char* credential, const std::filesystem::path& configured) {
        auto path = config::secret_file_path(credential, configured);
        const bool from_credential = config::is_systemd_credential(path) && path != configured;
        std::error_code ec;
        if (!from_credential && !std::filesystem::exists(path, ec)) {
            return "<not created yet: run `lethe init`>";
        }
        std::string text = config::read_private_file(path);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
            text.pop_back();
        }
        return masked(text.size(), from_credential ? std::string("systemd credential ") + credential
                                                   : "file " + path.string());
    }

    static std::string hostname() {
        char buf[256] = {};
        if (::gethostname(buf, sizeof buf - 1) != 0) {
            return "localhost";
        }
        return buf;
    }

    CLI::App* m_show = nullptr;
};

} // namespace

std::unique_ptr<Command> make_config_command() {
    return std::make_unique<ConfigCommand>();
}

} // namespace lethe::cli
