#pragma once

#include "net/listen_address.hpp"
#include "sandbox/fault_config.hpp"
#include "sandbox/workspace.hpp"

#include <CLI/CLI.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace lethe::sandbox {

using net::is_loopback_host;
using net::ListenAddress;
using net::parse_listen_address;

// A bad command line or setting; lethe-sandbox exits with status 2.
class UsageError : public std::runtime_error {
public:
    explicit UsageError(const std::string& message) : std::runtime_error(message) {}
};

// Everything set on the command line.
struct Options {
    std::string listen = "127.0.0.1:0";
    ListenAddress address; // parsed from `listen` by check_options
    bool allow_non_loopback = false;
    std::string tls_cert;
    std::string tls_key;
    std::string site_id;
    std::string api_key_file;
    std::string api_key_argument; // only to refuse it: keys must not show in `ps`
    std::string region = "us";
    std::int64_t environment_id = 1;
    std::string track_url; // empty: the sandbox's own URL
    std::string identify_by = "email_or_id";
    bool phone_identifier = false;
    std::string app_api_key_file; // else $LETHE_SANDBOX_APP_API_KEY; neither: no App API key
    std::string workspaces_file;  // --workspaces: several workspaces instead of the flags above
    std::int64_t visibility_delay_ms = -1; // -1: the file's value, else 0
    int app_rate_limit = -1;               // -1: the file's value, else 10
    bool log = false;
    std::size_t log_limit = 1'000'000;
    int threads = 64;
    std::int64_t retry_after = -1; // -1: no Retry-After
    std::uint64_t seed = 0;
    bool seed_given = false;
    std::vector<std::string> status_for;
    FaultConfig faults; // completed by check_options
};

// Declares every flag on `app`, writing into `options`.
void define_options(CLI::App& app, Options& options);

// Completes and validates `options` after parsing; throws UsageError.
void check_options(Options& options);

// The workspaces to serve: the --workspaces file, or one workspace named "default" from the
// single-workspace flags and keys. Throws UsageError naming the file and the JSON path.
WorkspacesFile resolve_workspaces(const Options& options);

// The API key from --api-key-file (preferred) or $LETHE_SANDBOX_API_KEY, without a trailing
// newline; throws UsageError when neither gives a non-empty key.
std::string resolve_api_key(const Options& options);

} // namespace lethe::sandbox
