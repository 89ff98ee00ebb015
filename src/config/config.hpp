#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace lethe::config {

// [database]
struct DatabaseSection {
    std::filesystem::path path = "/var/lib/lethe/lethe.db";
};

// [customerio]
struct CustomerIoSection {
    std::string region = "us"; // "us" | "eu"
    std::string track_url;     // derived from region when not set
    std::string site_id;       // not secret, but required for network commands
    std::string api_key_file;  // one of the three api_key_* names the key's source
    std::string api_key_env;
    std::string api_key_command;
    std::int64_t api_key_command_timeout_ms = 10'000; // api_key_command is killed after this
    std::int64_t timeout_ms = 10'000;
    bool allow_insecure_loopback = false; // permits http:// to 127.0.0.1 / [::1] only
    std::string ca_file;                  // extra trust anchor (proxy, sandbox certificate)
};

// [worker]
struct WorkerSection {
    std::int64_t pacing_ms = 100;
    std::int64_t concurrency = 4;
    std::int64_t lease_seconds = 60;
    std::int64_t max_attempts = 10;
    std::int64_t backoff_base_ms = 1'000;
    std::int64_t backoff_max_ms = 3'600'000;
    std::int64_t poll_interval_ms = 5'000;
};

// [audit]
struct AuditSection {
    std::filesystem::path subject_key_file = "/var/lib/lethe/subject.key";
    std::filesystem::path checkpoint_key_file = "/var/lib/lethe/checkpoint.key";
    std::filesystem::path checkpoint_dir = "/var/lib/lethe/checkpoints";
    std::string origin; // checkpoint origin line; defaults to "lethe/<hostname>"
};

// [intake]: `lethe serve` (docs/intake.md).
struct IntakeSection {
    std::string listen = "127.0.0.1:8377"; // HOST:PORT or [V6]:PORT; port 0 picks a free port
    std::string tls_cert_file;             // PEM certificate; set together with tls_key_file
    std::string tls_key_file;              // PEM private key (HTTPS when both are set)
    std::string secret_file;               // one of the three secret_* names the HMAC secret
    std::string secret_command;
    std::string secret_env;
    std::int64_t secret_command_timeout_ms = 10'000; // secret_command is killed after this
    std::int64_t max_body_bytes = 16'384;            // larger bodies get 413
    bool allow_plain_http = false; // plain HTTP on a non-loopback listen (a TLS proxy in front)
};

// The whole validated configuration; relative paths are already resolved against the
// directory of the file they came from.
struct Config {
    std::filesystem::path source; // the file it was read from, or empty for built-in defaults
    DatabaseSection database;
    CustomerIoSection customerio;
    WorkerSection worker;
    AuditSection audit;
    IntakeSection intake;
};

// Track API base URL for a region ("us" → https://track.customer.io).
std::string default_track_url(const std::string& region);

// Picks the config path: --config, else $LETHE_CONFIG, else /etc/lethe/lethe.toml.
std::filesystem::path config_path(const std::optional<std::filesystem::path>& flag);

// Reads and validates a TOML file. Throws lethe::ConfigError "FILE:LINE: key: reason" on a
// syntax error, an unknown key, a wrong type or an out-of-range value.
Config load_config(const std::filesystem::path& path);

// Same, from text (`name` is used in messages and to resolve relative paths).
Config parse_config(const std::string& text, const std::filesystem::path& name);

} // namespace lethe::config
