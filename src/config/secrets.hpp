#pragma once

#include "config/config.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lethe::config {

// systemd credential names (LoadCredential=NAME:...), looked up in $CREDENTIALS_DIRECTORY.
inline constexpr const char* k_track_api_key_credential = "track-api-key"; // ".NAME" per workspace
inline constexpr const char* k_app_api_key_credential = "app-api-key";     // ".NAME" per workspace
inline constexpr const char* k_subject_key_credential = "subject-key";
inline constexpr const char* k_checkpoint_key_credential = "checkpoint-key";
inline constexpr const char* k_identifier_key_credential = "identifier-key";
inline constexpr const char* k_intake_secret_credential = "intake-secret";

// Default time a `*_command` may run before it is killed.
inline constexpr std::chrono::milliseconds k_default_command_timeout{10'000};

// Where one secret may come from; empty fields are "not configured".
struct SecretSpec {
    std::string name;               // systemd credential name, e.g. "track-api-key"
    std::string file;               // *_file: path of a file holding the secret (mode 0600)
    std::string command;            // *_command: argv (split without a shell), first stdout line
    bool command_all_lines = false; // *_command: the whole stdout (the intake's current + next)
    std::string env;                // *_env: name of an environment variable
    std::string config_prefix; // for messages: "customerio.api_key" names customerio.api_key_file…
    std::filesystem::path config_file; // for messages: the config file the keys live in (optional)
    std::string command_timeout_key;   // for messages: the timeout's key when it is not
                                       // config_prefix + "_command_timeout_ms"
};

// A resolved secret and where it came from.
struct Secret {
    std::string value;  // the secret itself: never log, print or put in an error
    std::string origin; // e.g. "file /etc/lethe/key", "command /usr/bin/pass" — never the value
};

// Resolves a secret in this order: $CREDENTIALS_DIRECTORY/<name> when that file exists, then
// exactly one of file / command / env. Trailing CR/LF are stripped; the value is registered for
// log redaction. Throws lethe::ConfigError (never containing the value) when no source or several
// are configured, a file is missing or too open, a command fails or times out, or the value is
// empty.
Secret resolve_secret(const SecretSpec& spec,
                      std::chrono::milliseconds command_timeout = k_default_command_timeout);

// The systemd credential holding a workspace's Track API key: "track-api-key.NAME", or
// "track-api-key" for the [customerio] workspace (as before workspaces existed).
std::string track_api_key_credential(const WorkspaceSection& workspace);

// The same for the App API key: "app-api-key.NAME", or "app-api-key" for [customerio].
std::string app_api_key_credential(const WorkspaceSection& workspace);

// A workspace's Track API key sources: its api_key_* keys and credential; messages name
// "workspace.NAME.api_key" (or "customerio.api_key").
SecretSpec track_api_key_spec(const Config& config, const WorkspaceSection& workspace);

// Resolves a workspace's Track API key with its command timeout, and registers both the key and
// the Base64 of "site_id:api_key" (the HTTP Basic credential) for redaction. Throws ConfigError.
Secret resolve_track_api_key(const Config& config, const WorkspaceSection& workspace);

// A workspace's App API key sources: its app_api_key_* keys and credential; messages name
// "workspace.NAME.app_api_key" (or "customerio.app_api_key").
SecretSpec app_api_key_spec(const Config& config, const WorkspaceSection& workspace);

// Resolves a workspace's App API key and registers it (and "Bearer KEY", the header value) for
// redaction. The key is optional: nullopt when no app_api_key_* key and no credential is there
// (workspace.has_app_api_key() is false). Throws ConfigError (without the value) when a
// configured source fails.
std::optional<Secret> resolve_app_api_key(const Config& config, const WorkspaceSection& workspace);

// The systemd credential holding a sender's secrets: "intake-secret.NAME", or "intake-secret" for
// the sender made of [intake]'s own keys.
std::string sender_secret_credential(const SenderSection& sender);

// A sender's HMAC secret sources: its secret_* keys and credential; messages name
// "intake.sender.NAME.secret" (or "intake.secret").
SecretSpec sender_secret_spec(const Config& config, const SenderSection& sender);

// The first sender's secret sources (the [intake] secret when there are no [[intake.sender]]).
SecretSpec intake_secret_spec(const Config& config);

// The intake's accepted HMAC secrets and where they came from.
struct IntakeSecrets {
    std::vector<std::string> keys; // the current secret, then the next one during a rotation
    std::string origin;            // as Secret::origin
};

// Resolves a sender's secrets: one line (the key in use), or two (current and next, both accepted
// while the sender rotates; docs/intake.md). Each line is registered for redaction. Throws
// ConfigError (never containing the value) on a resolution error, an empty line or more than two
// lines.
IntakeSecrets resolve_sender_secrets(const Config& config, const SenderSection& sender);

// A sender with its resolved secrets.
struct SenderSecrets {
    const SenderSection* sender = nullptr; // points into the Config
    IntakeSecrets secrets;
};

// Resolves every sender's secrets (resolve_sender_secrets), in configuration order. Throws
// ConfigError as that does, and when two senders share a secret.
std::vector<SenderSecrets> resolve_all_sender_secrets(const Config& config);

// The first sender's secrets (resolve_sender_secrets). Resolves the intake secret: one line (the
// key in use), or two (current and next, both accepted while senders rotate; docs/intake.md). Each
// line is registered for redaction. Throws ConfigError (never containing the value) on a resolution
// error, an empty line or more than two lines.
IntakeSecrets resolve_intake_secrets(const Config& config);

// $CREDENTIALS_DIRECTORY/<name> when that file exists, else `configured_file` (for the subject and
// checkpoint keys, which are files created by `lethe init`).
std::filesystem::path secret_file_path(std::string_view name,
                                       const std::filesystem::path& configured_file);

// True when `path` lies directly in $CREDENTIALS_DIRECTORY (trusted as systemd made it).
bool is_systemd_credential(const std::filesystem::path& path);

// Refuses a secret file that is not a regular file, is group/world accessible (mode & 077) or is
// not owned by the effective user: throws ConfigError naming the file and the fix (chmod 600 /
// chown). Files in $CREDENTIALS_DIRECTORY are accepted as they are. Throws when it cannot be read.
void check_private_file(const std::filesystem::path& path);

// Reads a secret file after check_private_file (on the same open descriptor, so the checked file
// is the one read); the content is returned as is. Throws ConfigError.
std::string read_private_file(const std::filesystem::path& path);

// Splits a `*_command` into argv without a shell: whitespace separates words; '…' keeps
// everything literally; "…" keeps everything but \" and \\; outside quotes \ escapes the next
// character. Throws ConfigError on an unterminated quote or an empty command.
std::vector<std::string> split_command(std::string_view command);

// Adds a value that the log sinks replace with "[redacted]" (a backstop: the primary defence is
// never logging secrets). Empty values are ignored; thread-safe.
void register_secret_for_redaction(std::string_view value);

// Replaces every registered secret in `text` with "[redacted]"; returns true when it changed.
bool redact_secrets(std::string& text);

// Standard Base64 (with padding) of `bytes`, as used by HTTP Basic authentication.
std::string base64_encode(std::string_view bytes);

} // namespace lethe::config
