#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lethe::config {

// [database]
struct DatabaseSection {
    std::filesystem::path path = "/var/lib/lethe/lethe.db";
    // The key that seals identifiers at rest; by default beside the database (invariant 10).
    std::filesystem::path identifier_key_file = "/var/lib/lethe/identifier.key";
    // How often `run` and `serve` cut the WAL, where rows of done requests linger (invariant 10).
    std::int64_t scrub_interval_s = 10;
};

// One Customer.io workspace: a [[workspace]] table, or the legacy [customerio] section (then
// named "default"). Both of its keys belong to exactly this workspace.
struct WorkspaceSection {
    std::string name;          // [a-z0-9-]{1,32}, unique; used in audit, metrics and output
    std::string region = "us"; // "us" | "eu"
    std::string site_id;       // not secret; required in [[workspace]], checked later for
                               // [customerio] (network commands need it)
    std::optional<std::int64_t> environment_id; // the workspace id as `lethe check` prints it;
                                                // required in [[workspace]]
    std::string api_key_file; // Track API key: one of the three api_key_* names its source
    std::string api_key_env;
    std::string api_key_command;
    std::string app_api_key_file; // App API key (optional): at most one app_api_key_*
    std::string app_api_key_env;
    std::string app_api_key_command;
    std::int64_t api_key_command_timeout_ms = 10'000; // any *_api_key_command is killed after this
    std::string track_url; // derived from region when not set; no trailing '/'
    std::string app_url;   // derived from region when not set; no trailing '/'
    std::int64_t timeout_ms = 10'000;
    bool allow_insecure_loopback = false; // permits http:// to 127.0.0.1 / [::1] only
    std::string ca_file;                  // extra trust anchor (proxy, sandbox certificate)
    bool from_customerio_section = false; // read from [customerio]: keys are "customerio.*",
                                          // credentials unsuffixed ("track-api-key")

    // True when an App API key source is configured: an app_api_key_* key, or the systemd
    // credential for it in $CREDENTIALS_DIRECTORY (defined in secrets.cpp, which knows the
    // credential names). Without one, erasures can only be reported as unverified.
    bool has_app_api_key() const;
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
    std::int64_t verify_window_s = 1'800; // re-check a profile still present this long
};

// One [[audit.witness]] table: a C2SP tlog-witness that cosigns the checkpoints.
struct WitnessSection {
    std::string name; // the witness's key name, as in its verifier key
    std::string url;  // submission prefix: URL/add-checkpoint is POSTed (no trailing '/')
    std::string vkey; // its verifier key "NAME+KEYID+BASE64" (type 0x04), checked when read
    bool allow_insecure_loopback = false; // permits http:// to 127.0.0.1 / [::1]
};

// [audit]
struct AuditSection {
    std::filesystem::path subject_key_file = "/var/lib/lethe/subject.key";
    std::filesystem::path checkpoint_key_file = "/var/lib/lethe/checkpoint.key";
    // During a key rotation: the key being retired; every note is then signed by both
    // (docs/audit-format.md, "Rotating the checkpoint key"). Empty: none.
    std::filesystem::path previous_checkpoint_key_file;
    std::filesystem::path checkpoint_dir = "/var/lib/lethe/checkpoints";
    std::string origin; // checkpoint origin line; defaults to "lethe/<hostname>"
    std::vector<WitnessSection> witnesses;
    // `lethe serve` signs a checkpoint (and submits it to the witnesses) this often.
    std::int64_t checkpoint_interval_s = 3600;
    // Cosignatures that make a checkpoint witnessed; default 1 with witnesses, 0 without.
    std::int64_t witness_quorum = 0;
};

// What a sender of the intake may do (docs/intake.md, "Senders").
enum class SenderScope : unsigned {
    submit = 1, // POST /v1/erasure-requests
    read = 2,   // GET /v1/erasure-requests/{request_id}
};

// One sender of the intake: an [[intake.sender]] table, or the [intake] section's own secret (then
// named "default", with both scopes, as before senders existed).
struct SenderSection {
    std::string name;           // [a-z0-9-]{1,32}, unique; recorded with its requests and audited
    std::string secret_file;    // one of the three secret_* names the HMAC secret(s)
    std::string secret_command; // (or the systemd credential "intake-secret.NAME")
    std::string secret_env;
    std::int64_t secret_command_timeout_ms = 10'000;
    unsigned scopes = 0;                    // SenderScope bits
    std::string callback_url;               // completion callbacks; empty: none (no trailing '/')
    bool allow_insecure_loopback = false;   // permits an http:// callback to 127.0.0.1 / [::1]
    std::int64_t callback_retry_hours = 72; // a callback is retried this long, then failed
    bool from_intake_section = false;       // the [intake] secret: credential "intake-secret"

    // True when the sender holds `scope`.
    bool has(SenderScope scope) const { return (scopes & static_cast<unsigned>(scope)) != 0; }
};

// The name of the sender made from [intake]'s own secret_* keys.
inline constexpr const char* k_legacy_sender_name = "default";

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
    // The senders: the [[intake.sender]] tables in file order, or else one sender "default" made
    // from the secret_* keys above (both scopes, no callback).
    std::vector<SenderSection> senders;

    // The sender called `name`, or nullptr.
    const SenderSection* find_sender(std::string_view name) const;
};

// The whole validated configuration; relative paths are already resolved against the
// directory of the file they came from.
struct Config {
    std::filesystem::path source; // the file it was read from, or empty for built-in defaults
    DatabaseSection database;
    std::vector<WorkspaceSection> workspaces; // in file order; empty when none is configured
    WorkerSection worker;
    AuditSection audit;
    IntakeSection intake;

    // The workspace called `name`, or nullptr.
    const WorkspaceSection* find_workspace(std::string_view name) const;
};

// The names of the configured workspaces, in file order.
std::vector<std::string> workspace_names(const Config& config);
// The names of the [[audit.witness]] tables, in file order.
std::vector<std::string> witness_names(const Config& config);

// The sender made of [intake]'s own secret_* keys: "default", both scopes, no callback.
SenderSection legacy_sender(const IntakeSection& intake);

// Track API base URL for a region ("us" → https://track.customer.io).
std::string default_track_url(const std::string& region);

// App API base URL for a region ("us" → https://api.customer.io).
std::string default_app_url(const std::string& region);

// The name the [customerio] section's workspace gets.
inline constexpr const char* k_legacy_workspace_name = "default";

// Picks the config path: --config, else $LETHE_CONFIG, else /etc/lethe/lethe.toml.
std::filesystem::path config_path(const std::optional<std::filesystem::path>& flag);

// Reads and validates a TOML file. Throws lethe::ConfigError "FILE:LINE: key: reason" on a
// syntax error, an unknown key, a wrong type or an out-of-range value.
Config load_config(const std::filesystem::path& path);

// Same, from text (`name` is used in messages and to resolve relative paths).
Config parse_config(const std::string& text, const std::filesystem::path& name);

} // namespace lethe::config
