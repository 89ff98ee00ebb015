#include "sandbox/options.hpp"

#include "util/fs.hpp"

#include <cstdlib>

namespace lethe::sandbox {
namespace {

void define_server_options(CLI::App& app, Options& o) {
    app.add_option("--listen", o.listen, "HOST:PORT to listen on (port 0: any free port)")
        ->capture_default_str();
    app.add_flag("--allow-non-loopback", o.allow_non_loopback,
                 "Permit listening on an address other than 127.0.0.0/8, ::1 or localhost");
    app.add_option("--tls-cert", o.tls_cert, "PEM certificate: serve HTTPS (with --tls-key)");
    app.add_option("--tls-key", o.tls_key, "PEM private key for --tls-cert");
    app.add_option("--threads", o.threads, "Worker threads (concurrent connections)")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    app.add_flag("--log", o.log, "One line per request on stderr");
    app.add_option("--log-limit", o.log_limit, "Request log entries kept for /_sandbox/state")
        ->capture_default_str();
}

void define_account_options(CLI::App& app, Options& o) {
    app.add_option("--workspaces", o.workspaces_file,
                   "JSON file of several workspaces with their keys, settings and people "
                   "(instead of the single-workspace flags below)");
    app.add_option("--visibility-delay-ms", o.visibility_delay_ms,
                   "Deleted profiles stay visible to App API reads this long")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{86'400'000}));
    app.add_option("--app-rate-limit", o.app_rate_limit,
                   "App API requests per second and workspace (0: unlimited; default 10)")
        ->check(CLI::Range(0, 1'000'000));
    app.add_option("--site-id", o.site_id, "Accepted site id (Basic auth user)");
    app.add_option("--api-key-file", o.api_key_file,
                   "File holding the accepted API key (else $LETHE_SANDBOX_API_KEY)");
    app.add_option("--api-key", o.api_key_argument)->group(""); // refused in check_options
    app.add_option("--region", o.region, "Region reported by /api/v1/accounts/region")
        ->check(CLI::IsMember({"us", "eu"}))
        ->capture_default_str();
    app.add_option("--environment-id", o.environment_id, "Environment id reported there")
        ->capture_default_str();
    app.add_option("--track-url", o.track_url,
                   "URL reported there (default: the sandbox's own URL)");
    app.add_option("--identify-by", o.identify_by,
                   "How the workspace identifies people: email_or_id or id")
        ->check(CLI::IsMember({"email_or_id", "id"}))
        ->capture_default_str();
    app.add_flag("--phone-identifier", o.phone_identifier,
                 "Phone numbers are identifiers in the workspace");
    app.add_option("--app-api-key-file", o.app_api_key_file,
                   "File holding the App API key (else $LETHE_SANDBOX_APP_API_KEY; neither: the "
                   "workspace has no App API key)");
}

void define_fault_options(CLI::App& app, Options& o) {
    auto rate = CLI::Range(0.0, 1.0);
    FaultConfig& f = o.faults;
    app.add_option("--rate-429", f.rate_429, "Share of API calls answered 429")->check(rate);
    app.add_option("--retry-after", o.retry_after, "Retry-After seconds sent with 429s")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--retry-after-share", f.retry_after_share,
                   "Share of 429s that carry Retry-After (default 1)")
        ->check(rate);
    app.add_flag("--retry-after-date", f.retry_after_date, "Send Retry-After as an HTTP date");
    app.add_option("--rate-500", f.rate_500, "Share of API calls answered 500")->check(rate);
    app.add_option("--rate-502", f.rate_502, "Share of API calls answered 502")->check(rate);
    app.add_option("--rate-503", f.rate_503, "Share of API calls answered 503")->check(rate);
    app.add_option("--rate-reset", f.rate_reset,
                   "Share of API calls processed, then dropped mid-response")
        ->check(rate);
    app.add_option("--hang-rate", f.hang_rate, "Share of API calls that hang, unprocessed")
        ->check(rate);
    app.add_option("--hang-ms", f.hang_ms, "How long a hang lasts")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--latency-ms", f.latency_ms, "Delay added to every API call")
        ->check(CLI::NonNegativeNumber);
    app.add_option_function<std::uint64_t>(
        "--seed",
        [&o](const std::uint64_t& seed) {
            o.seed = seed;
            o.seed_given = true;
        },
        "Seed for the fault dice (reproducible runs)");
    app.add_option("--status-for", o.status_for,
                   "SUBSTRING=CODE: calls whose identifier contains SUBSTRING get CODE")
        ->take_all();
    app.add_option("--redirect-to", f.redirect_to,
                   "Answer API calls 307 with Location: URL + original path");
    app.add_flag("--destroy-missing-404", f.destroy_missing_404,
                 "Answer 404 to a destroy of an unknown person (default 200)");
}

void check_listen(Options& o) {
    auto address = parse_listen_address(o.listen);
    if (!address) {
        throw UsageError("--listen: expected HOST:PORT or [IPV6]:PORT, got '" + o.listen + "'");
    }
    if (!o.allow_non_loopback && !is_loopback_host(address->host)) {
        throw UsageError("--listen: " + address->host +
                         " is not a loopback address; the sandbox accepts any request from "
                         "anyone who can reach it (add --allow-non-loopback if you mean it)");
    }
    o.address = *address;
}

void check_faults(Options& o) {
    for (const auto& text : o.status_for) {
        auto rule = parse_status_rule(text);
        if (!rule) {
            throw UsageError("--status-for: expected SUBSTRING=CODE with CODE 400..599, got '" +
                             text + "'");
        }
        o.faults.status_for.push_back(*rule);
    }
    if (o.retry_after >= 0) {
        o.faults.retry_after = o.retry_after;
    }
    if (o.seed_given) {
        o.faults.seed = o.seed;
    }
    if (auto problem = validate(o.faults); !problem.empty()) {
        throw UsageError(problem);
    }
}

} // namespace

void define_options(CLI::App& app, Options& options) {
    define_server_options(app, options);
    define_account_options(app, options);
    define_fault_options(app, options);
}

void check_options(Options& o) {
    if (!o.api_key_argument.empty()) {
        throw UsageError("--api-key is not accepted: keys on the command line show in `ps`; use "
                         "--api-key-file FILE or $LETHE_SANDBOX_API_KEY");
    }
    if (o.tls_cert.empty() != o.tls_key.empty()) {
        throw UsageError("--tls-cert and --tls-key go together");
    }
    if (o.workspaces_file.empty() && o.site_id.empty()) {
        throw UsageError("--site-id is required (or --workspaces FILE)");
    }
    if (!o.workspaces_file.empty() && (!o.site_id.empty() || !o.api_key_file.empty() ||
                                       !o.app_api_key_file.empty() || !o.track_url.empty())) {
        throw UsageError("--workspaces FILE names every workspace's settings and keys; it does "
                         "not go with --site-id, --api-key-file, --app-api-key-file or "
                         "--track-url");
    }
    check_listen(o);
    check_faults(o);
}

namespace {

std::string strip_newlines(std::string key) {
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) {
        key.pop_back();
    }
    return key;
}

std::string resolve_app_api_key(const Options& o) {
    if (!o.app_api_key_file.empty()) {
        try {
            return strip_newlines(read_file(o.app_api_key_file, FileKind::secret));
        } catch (const std::exception& e) {
            throw UsageError(std::string("--app-api-key-file: ") + e.what());
        }
    }
    const char* env = std::getenv("LETHE_SANDBOX_APP_API_KEY");
    return env != nullptr ? env : "";
}

WorkspacesFile read_workspaces_file(const std::string& path) {
    std::string text;
    try {
        text = read_file(path, FileKind::config);
    } catch (const std::exception& e) {
        throw UsageError(std::string("--workspaces: ") + e.what());
    }
    auto document = nlohmann::json::parse(text, nullptr, false);
    if (document.is_discarded()) {
        throw UsageError(path + ": not valid JSON");
    }
    try {
        return parse_workspaces(document);
    } catch (const std::invalid_argument& e) {
        throw UsageError(path + ": " + e.what());
    }
}

} // namespace

WorkspacesFile resolve_workspaces(const Options& o) {
    WorkspacesFile file;
    if (!o.workspaces_file.empty()) {
        file = read_workspaces_file(o.workspaces_file);
    } else {
        WorkspaceSettings ws;
        ws.name = "default";
        ws.region = o.region;
        ws.site_id = o.site_id;
        ws.track_api_key = resolve_api_key(o);
        ws.app_api_key = resolve_app_api_key(o);
        ws.environment_id = o.environment_id;
        ws.rules = {*parse_identify_by(o.identify_by), o.phone_identifier};
        ws.track_url = o.track_url;
        file.workspaces.push_back(std::move(ws));
    }
    if (o.visibility_delay_ms >= 0) {
        file.visibility_delay_ms = o.visibility_delay_ms;
    }
    if (o.app_rate_limit >= 0) {
        file.app_rate_limit = o.app_rate_limit;
    }
    return file;
}

std::string resolve_api_key(const Options& o) {
    std::string key;
    if (!o.api_key_file.empty()) {
        try {
            key = read_file(o.api_key_file, FileKind::secret);
        } catch (const std::exception& e) {
            throw UsageError(std::string("--api-key-file: ") + e.what());
        }
    } else if (const char* env = std::getenv("LETHE_SANDBOX_API_KEY")) {
        key = env;
    }
    key = strip_newlines(std::move(key));
    if (key.empty()) {
        throw UsageError("no API key: put it in a file named by --api-key-file, or in "
                         "$LETHE_SANDBOX_API_KEY");
    }
    return key;
}

} // namespace lethe::sandbox
