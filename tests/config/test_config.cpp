#include "config/config.hpp"
#include "support/process.hpp"
#include "support/tempdir.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>

using namespace lethe;
using lethe::config::parse_config;

namespace {

// The message of the ConfigError thrown by parsing `text` as "/etc/x/lethe.toml".
std::string error_of(const std::string& text) {
    try {
        parse_config(text, "/etc/x/lethe.toml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace

TEST_CASE("defaults apply to an empty file", "[config]") {
    auto c = parse_config("", "/etc/lethe/lethe.toml");
    CHECK(c.database.path == "/var/lib/lethe/lethe.db");
    CHECK(c.workspaces.empty()); // loads; only the commands that call Customer.io need one
    CHECK(c.find_workspace("default") == nullptr);
    CHECK(c.worker.pacing_ms == 100);
    CHECK(c.worker.concurrency == 4);
    CHECK(c.audit.subject_key_file == "/var/lib/lethe/subject.key");
    CHECK(c.intake.listen == "127.0.0.1:8377");
    CHECK(c.intake.max_body_bytes == 16384);
    CHECK(c.intake.tls_cert_file.empty());
    CHECK(c.intake.secret_file.empty());
}

TEST_CASE("every documented key is read; relative paths follow the file", "[config]") {
    auto c = parse_config(R"(
[database]
path = "state/lethe.db"
[customerio]
region = "eu"
site_id = "site"
api_key_env = "KEY"
timeout_ms = 2500
allow_insecure_loopback = true
[worker]
pacing_ms = 0
concurrency = 8
lease_seconds = 1
max_attempts = 3
backoff_base_ms = 1
backoff_max_ms = 10
poll_interval_ms = 1
[audit]
subject_key_file = "keys/subject.key"
checkpoint_key_file = "/abs/checkpoint.key"
checkpoint_dir = "cp"
[intake]
listen = "[::1]:9000"
tls_cert_file = "tls/cert.pem"
tls_key_file = "/abs/key.pem"
secret_file = "intake.secret"
secret_command_timeout_ms = 500
max_body_bytes = 4096
)",
                          "/srv/lethe/lethe.toml");
    CHECK(c.database.path == "/srv/lethe/state/lethe.db");
    REQUIRE(c.workspaces.size() == 1);
    CHECK(c.workspaces[0].name == "default");
    CHECK(c.workspaces[0].from_customerio_section);
    CHECK(c.workspaces[0].track_url == "https://track-eu.customer.io");
    CHECK(c.workspaces[0].app_url == "https://api-eu.customer.io");
    CHECK(c.workspaces[0].timeout_ms == 2500);
    CHECK(c.workspaces[0].allow_insecure_loopback);
    CHECK_FALSE(c.workspaces[0].environment_id);
    CHECK(c.worker.pacing_ms == 0);
    CHECK(c.worker.lease_seconds == 1);
    CHECK(c.audit.subject_key_file == "/srv/lethe/keys/subject.key");
    CHECK(c.audit.checkpoint_key_file == "/abs/checkpoint.key");
    CHECK(c.audit.checkpoint_dir == "/srv/lethe/cp");
    CHECK(c.intake.listen == "[::1]:9000");
    CHECK(c.intake.tls_cert_file == "/srv/lethe/tls/cert.pem");
    CHECK(c.intake.tls_key_file == "/abs/key.pem");
    CHECK(c.intake.secret_file == "/srv/lethe/intake.secret");
    CHECK(c.intake.secret_command_timeout_ms == 500);
    CHECK(c.intake.max_body_bytes == 4096);
}

TEST_CASE("the [intake] section refuses bad listen addresses, half a TLS pair and odd limits",
          "[config]") {
    CHECK(error_of("[intake]\nlisten = \"localhost\"\n") ==
          "/etc/x/lethe.toml:2: intake.listen: expected HOST:PORT or [IPV6]:PORT with a port from "
          "0 to 65535");
    CHECK(error_of("[intake]\nlisten = \"::1:80\"\n").find("intake.listen") != std::string::npos);
    CHECK(error_of("[intake]\nlisten = \"127.0.0.1:65536\"\n").find("intake.listen") !=
          std::string::npos);
    CHECK(error_of("[intake]\ntls_cert_file = \"c.pem\"\n") ==
          "/etc/x/lethe.toml:2: intake.tls_cert_file: needs tls_key_file as well (HTTPS needs "
          "both)");
    CHECK(error_of("[intake]\n\ntls_key_file = \"k.pem\"\n") ==
          "/etc/x/lethe.toml:3: intake.tls_key_file: needs tls_cert_file as well (HTTPS needs "
          "both)");
    CHECK(error_of("[intake]\nmax_body_bytes = 10\n") ==
          "/etc/x/lethe.toml:2: intake.max_body_bytes: must be between 256 and 1048576 (got 10)");
    CHECK(error_of("[intake]\nsecret = \"inline\"\n") ==
          "/etc/x/lethe.toml:2: intake.secret: unknown key");
    // Off loopback, plain HTTP is refused unless said explicitly; HTTPS is fine.
    CHECK(error_of("[intake]\nlisten = \"0.0.0.0:8377\"\n") ==
          "/etc/x/lethe.toml:2: intake.listen: a non-loopback address needs tls_cert_file and "
          "tls_key_file (requests carry personal data), or allow_plain_http = true when a TLS "
          "proxy on a trusted network terminates HTTPS in front of lethe");
    CHECK(error_of("[intake]\nlisten = \"[::]:0\"\n").find("needs tls_cert_file") !=
          std::string::npos);
    CHECK(parse_config("[intake]\nlisten = \"0.0.0.0:0\"\nallow_plain_http = true\n", "/x.toml")
              .intake.listen == "0.0.0.0:0");
    CHECK(parse_config("[intake]\nlisten = \"0.0.0.0:0\"\ntls_cert_file = \"c.pem\"\n"
                       "tls_key_file = \"k.pem\"\n",
                       "/x.toml")
              .intake.listen == "0.0.0.0:0");
    CHECK(parse_config("[intake]\nlisten = \"127.0.0.2:0\"\n", "/x.toml").intake.listen ==
          "127.0.0.2:0");
}

TEST_CASE("config errors name the file, the line and the key", "[config]") {
    CHECK(error_of("[database]\npaht = \"x\"\n") ==
          "/etc/x/lethe.toml:2: database.paht: unknown key");
    CHECK(error_of("[databse]\npath = \"x\"\n") == "/etc/x/lethe.toml:1: databse: unknown section");
    CHECK(error_of("[worker]\n\nconcurrency = \"4\"\n") ==
          "/etc/x/lethe.toml:3: worker.concurrency: expected an integer");
    CHECK(error_of("[worker]\nconcurrency = 0\n") ==
          "/etc/x/lethe.toml:2: worker.concurrency: must be between 1 and 64 (got 0)");
    CHECK(error_of("[worker]\npacing_ms = -1\n") ==
          "/etc/x/lethe.toml:2: worker.pacing_ms: must be between 0 and 60000 (got -1)");
    CHECK(error_of("[customerio]\nregion = \"asia\"\n") ==
          "/etc/x/lethe.toml:2: customerio.region: must be one of \"us\", \"eu\" (got \"asia\")");
    CHECK(error_of("[customerio]\nallow_insecure_loopback = 1\n") ==
          "/etc/x/lethe.toml:2: customerio.allow_insecure_loopback: expected true or false");
    CHECK(error_of("[customerio]\ntrack_url = \"ftp://x\"\n") ==
          "/etc/x/lethe.toml:2: customerio.track_url: must start with https://");
    CHECK(error_of("[worker]\nbackoff_base_ms = 100\nbackoff_max_ms = 10\n") ==
          "/etc/x/lethe.toml:3: worker.backoff_max_ms: must not be smaller than backoff_base_ms");
    CHECK(error_of("database = 1\n") == "/etc/x/lethe.toml:1: database: expected a [database] "
                                        "section");
}

TEST_CASE("TOML syntax errors carry the line", "[config]") {
    auto msg = error_of("[worker]\npacing_ms = = 3\n");
    CHECK(msg.rfind("/etc/x/lethe.toml:2: ", 0) == 0);
}

TEST_CASE("config file lookup: flag, then $LETHE_CONFIG, then /etc", "[config]") {
    CHECK(config::config_path(std::filesystem::path("/a.toml")) == "/a.toml");
    ::setenv("LETHE_CONFIG", "/from/env.toml", 1);
    CHECK(config::config_path(std::nullopt) == "/from/env.toml");
    ::unsetenv("LETHE_CONFIG");
    CHECK(config::config_path(std::nullopt) == "/etc/lethe/lethe.toml");
    CHECK_THROWS_AS(config::load_config("/nonexistent/lethe.toml"), ConfigError);
}

TEST_CASE("several [[workspace]] tables: every key, defaults from the region",
          "[config][workspace]") {
    auto c = parse_config(R"(
[[workspace]]
name = "us-main"
site_id = "site-us"
environment_id = 101
api_key_file = "keys/us.key"
app_api_key_env = "US_APP_KEY"

[[workspace]]
name = "eu-main"
region = "eu"
site_id = "site-eu"
environment_id = 202
api_key_command = "pass show cio/eu"
api_key_command_timeout_ms = 500
app_api_key_file = "/abs/eu-app.key"
track_url = "https://track-eu.customer.io/"
app_url = "https://api-eu.customer.io"
timeout_ms = 3000
ca_file = "ca.pem"

[[workspace]]
name = "sandbox-1"
site_id = "s"
environment_id = 9
api_key_env = "SANDBOX_KEY"
track_url = "http://127.0.0.1:8099"
app_url = "http://[::1]:8099"
allow_insecure_loopback = true
)",
                          "/srv/lethe/lethe.toml");
    REQUIRE(c.workspaces.size() == 3);
    const auto& us = c.workspaces[0];
    CHECK(us.name == "us-main");
    CHECK_FALSE(us.from_customerio_section);
    CHECK(us.region == "us");
    CHECK(us.site_id == "site-us");
    CHECK(us.environment_id == 101);
    CHECK(us.api_key_file == "/srv/lethe/keys/us.key");
    CHECK(us.app_api_key_env == "US_APP_KEY");
    CHECK(us.track_url == "https://track.customer.io");
    CHECK(us.app_url == "https://api.customer.io");
    CHECK(us.timeout_ms == 10'000);
    CHECK(us.api_key_command_timeout_ms == 10'000);
    CHECK_FALSE(us.allow_insecure_loopback);
    const auto& eu = c.workspaces[1];
    CHECK(eu.region == "eu");
    CHECK(eu.environment_id == 202);
    CHECK(eu.api_key_command == "pass show cio/eu");
    CHECK(eu.api_key_command_timeout_ms == 500);
    CHECK(eu.app_api_key_file == "/abs/eu-app.key");
    CHECK(eu.track_url == "https://track-eu.customer.io");
    CHECK(eu.app_url == "https://api-eu.customer.io");
    CHECK(eu.timeout_ms == 3000);
    CHECK(eu.ca_file == "/srv/lethe/ca.pem");
    CHECK(c.workspaces[2].track_url == "http://127.0.0.1:8099");
    CHECK(c.workspaces[2].app_url == "http://[::1]:8099");
    CHECK(c.find_workspace("eu-main") == &c.workspaces[1]);
    CHECK(c.find_workspace("eu") == nullptr);
}

TEST_CASE("a [customerio] section is the workspace \"default\"; it may pin environment_id",
          "[config][workspace]") {
    auto c =
        parse_config("[customerio]\nsite_id = \"s\"\napi_key_env = \"K\"\nenvironment_id = 7\n"
                     "app_api_key_file = \"app.key\"\napp_url = \"https://api.customer.io/\"\n",
                     "/srv/lethe/lethe.toml");
    REQUIRE(c.workspaces.size() == 1);
    const auto& ws = c.workspaces[0];
    CHECK(ws.name == "default");
    CHECK(ws.from_customerio_section);
    CHECK(ws.environment_id == 7);
    CHECK(ws.app_api_key_file == "/srv/lethe/app.key");
    CHECK(ws.app_url == "https://api.customer.io");
    CHECK(c.find_workspace("default") == &ws);
    // As before: neither site_id nor a key is needed to load (only network commands need them).
    auto bare = parse_config("[customerio]\nregion = \"eu\"\n", "/x.toml");
    REQUIRE(bare.workspaces.size() == 1);
    CHECK(bare.workspaces[0].site_id.empty());
    CHECK_FALSE(bare.workspaces[0].environment_id);
    // [customerio] has no name: it is always "default".
    CHECK(error_of("[customerio]\nname = \"x\"\n") ==
          "/etc/x/lethe.toml:2: customerio.name: unknown key");
}

TEST_CASE("[customerio] and [[workspace]] cannot be combined", "[config][workspace]") {
    const std::string ws = "[[workspace]]\nname = \"a\"\nsite_id = \"s\"\nenvironment_id = 1\n";
    CHECK(error_of("[customerio]\nsite_id = \"s\"\n" + ws) ==
          "/etc/x/lethe.toml:3: workspace: a [customerio] section and [[workspace]] tables cannot "
          "be combined (the other one is at line 1); use one or the other ([customerio] is the "
          "single workspace \"default\")");
    CHECK(error_of(ws + "[customerio]\nsite_id = \"s\"\n") ==
          "/etc/x/lethe.toml:5: customerio: a [customerio] section and [[workspace]] tables "
          "cannot be combined (the other one is at line 1); use one or the other ([customerio] "
          "is the single workspace \"default\")");
    CHECK(error_of("[workspace]\nname = \"a\"\n") ==
          "/etc/x/lethe.toml:1: workspace: expected [[workspace]] tables (one per workspace)");
}

TEST_CASE("bad [[workspace]] tables are refused with file, line and key", "[config][workspace]") {
    const std::string a = "[[workspace]]\nname = \"a\"\nsite_id = \"s\"\nenvironment_id = 1\n";
    // Names: missing, malformed, too long, duplicate.
    CHECK(error_of("[[workspace]]\nsite_id = \"s\"\nenvironment_id = 1\n") ==
          "/etc/x/lethe.toml:1: workspace[1].name: must be set: a stable name of [a-z0-9-], 1 to "
          "32 characters (used in the audit log, metrics and output)");
    CHECK(error_of(a + "[[workspace]]\nname = \"US Main\"\n") ==
          "/etc/x/lethe.toml:6: workspace[2].name: must be 1 to 32 characters of a-z, 0-9 and - "
          "(got \"US Main\")");
    CHECK(error_of("[[workspace]]\nname = \"\"\n") ==
          "/etc/x/lethe.toml:2: workspace[1].name: must be 1 to 32 characters of a-z, 0-9 and - "
          "(got \"\")");
    CHECK(error_of("[[workspace]]\nname = \"" + std::string(33, 'a') + "\"\n")
              .find("workspace[1].name: must be 1 to 32 characters") != std::string::npos);
    CHECK(error_of("[[workspace]]\nname = 5\n") ==
          "/etc/x/lethe.toml:2: workspace[1].name: expected a string");
    CHECK(error_of(a + a) == "/etc/x/lethe.toml:6: workspace[2].name: \"a\" is already the name "
                             "of workspace[1]; names must be unique");
    // Region, site_id, environment_id.
    CHECK(error_of(a + "region = \"asia\"\n") ==
          "/etc/x/lethe.toml:5: workspace[1].region: must be one of \"us\", \"eu\" (got "
          "\"asia\")");
    CHECK(error_of("[[workspace]]\nname = \"a\"\nenvironment_id = 1\n") ==
          "/etc/x/lethe.toml:1: workspace[1].site_id: must be set (the workspace's Track API "
          "site id)");
    CHECK(error_of("[[workspace]]\nname = \"a\"\nsite_id = \"\"\nenvironment_id = 1\n") ==
          "/etc/x/lethe.toml:3: workspace[1].site_id: must not be empty");
    CHECK(error_of(a + "[[workspace]]\nname = \"b\"\nsite_id = \"s\"\n") ==
          "/etc/x/lethe.toml:5: workspace[2].environment_id: must be set: the workspace id as "
          "`lethe check` prints it (it pins the Track API key to this workspace)");
    CHECK(error_of("[[workspace]]\nname = \"a\"\nsite_id = \"s\"\nenvironment_id = 0\n") ==
          "/etc/x/lethe.toml:4: workspace[1].environment_id: must be between 1 and "
          "9223372036854775807 (got 0)");
    CHECK(error_of("[[workspace]]\nname = \"a\"\nsite_id = \"s\"\nenvironment_id = \"101\"\n") ==
          "/etc/x/lethe.toml:4: workspace[1].environment_id: expected an integer");
    // Key sources: at most one each.
    CHECK(error_of(a + "api_key_file = \"k\"\napi_key_env = \"K\"\n") ==
          "/etc/x/lethe.toml:6: workspace[1].api_key_env: several Track API key sources are "
          "configured (api_key_file, api_key_env); keep exactly one of api_key_file, "
          "api_key_command or api_key_env");
    CHECK(error_of(a + "app_api_key_command = \"x\"\napp_api_key_file = \"k\"\n") ==
          "/etc/x/lethe.toml:6: workspace[1].app_api_key_file: several App API key sources are "
          "configured (app_api_key_file, app_api_key_command); keep exactly one of "
          "app_api_key_file, app_api_key_command or app_api_key_env");
    CHECK(error_of("[customerio]\napp_api_key_env = \"A\"\napp_api_key_file = \"k\"\n")
              .find("customerio.app_api_key_file: several App API key sources") !=
          std::string::npos);
    // Unknown keys.
    CHECK(error_of(a + "api_key = \"inline\"\n") ==
          "/etc/x/lethe.toml:5: workspace[1].api_key: unknown key");
    CHECK(error_of(a + "[[workspace]]\nname = \"b\"\nsite_id = \"s\"\nenvironment_id = 2\n"
                       "evironment = 3\n") ==
          "/etc/x/lethe.toml:9: workspace[2].evironment: unknown key");
    // URLs: https, or http to a loopback literal with allow_insecure_loopback.
    CHECK(error_of(a + "track_url = \"http://track.customer.io\"\n") ==
          "/etc/x/lethe.toml:5: workspace[1].track_url: must use https:// (http:// is only "
          "allowed for 127.0.0.1 or [::1] with allow_insecure_loopback = true)");
    CHECK(error_of(a + "app_url = \"http://10.0.0.1:80/\"\nallow_insecure_loopback = true\n") ==
          "/etc/x/lethe.toml:5: workspace[1].app_url: must use https:// (http:// is only "
          "allowed for 127.0.0.1 or [::1] with allow_insecure_loopback = true)");
    CHECK(error_of(a + "app_url = \"http://localhost:8099\"\nallow_insecure_loopback = true\n")
              .find("workspace[1].app_url: must use https://") != std::string::npos);
    CHECK(error_of(a + "track_url = \"http://127.0.0.1:1@evil.example\"\n"
                       "allow_insecure_loopback = true\n")
              .find("workspace[1].track_url: must use https://") != std::string::npos);
    CHECK(error_of(a + "track_url = \"http://127.0.0.1:8099\"\n") ==
          "/etc/x/lethe.toml:5: workspace[1].track_url: http:// to a loopback address needs "
          "allow_insecure_loopback = true (meant for the sandbox)");
    CHECK(error_of(a + "app_url = \"ftp://x\"\n") ==
          "/etc/x/lethe.toml:5: workspace[1].app_url: must start with https://");
    CHECK(error_of("[customerio]\ntrack_url = \"http://10.1.2.3\"\n")
              .find("customerio.track_url: must use https://") != std::string::npos);
    // Per-workspace limits are validated like every key.
    CHECK(error_of(a + "timeout_ms = 0\n") ==
          "/etc/x/lethe.toml:5: workspace[1].timeout_ms: must be between 1 and 600000 (got 0)");
}

TEST_CASE("the shipped config/lethe.toml loads as it is installed", "[config][workspace]") {
    auto c = config::load_config(lethe::test::source_root() / "config" / "lethe.toml");
    CHECK(c.workspaces.empty()); // its [[workspace]] example is commented out
}

TEST_CASE("[[intake.sender]] tables: names, secrets, scopes and callbacks", "[config][senders]") {
    auto c = parse_config(R"([intake]
listen = "127.0.0.1:0"

[[intake.sender]]
name = "portal"
secret_file = "portal.secret"
scopes = ["submit", "read"]
callback_url = "https://dsr.example.com/lethe/"
callback_retry_hours = 24

[[intake.sender]]
name = "form"
secret_env = "FORM_SECRET"
scopes = ["submit"]
callback_url = "http://127.0.0.1:9000/cb"
allow_insecure_loopback = true

[[intake.sender]]
name = "revoked"
secret_command = "pass show lethe/revoked"
scopes = []
)",
                          "/srv/lethe/lethe.toml");
    using config::SenderScope;
    REQUIRE(c.intake.senders.size() == 3);
    const auto& portal = c.intake.senders[0];
    CHECK(portal.name == "portal");
    CHECK(portal.secret_file == "/srv/lethe/portal.secret");
    CHECK(portal.has(SenderScope::submit));
    CHECK(portal.has(SenderScope::read));
    CHECK(portal.callback_url == "https://dsr.example.com/lethe");
    CHECK(portal.callback_retry_hours == 24);
    CHECK_FALSE(portal.from_intake_section);
    const auto& form = c.intake.senders[1];
    CHECK(form.has(SenderScope::submit));
    CHECK_FALSE(form.has(SenderScope::read));
    CHECK(form.callback_retry_hours == 72);
    CHECK(form.callback_url == "http://127.0.0.1:9000/cb");
    CHECK(c.intake.senders[2].scopes == 0);
    CHECK(c.intake.find_sender("form") == &form);
    CHECK(c.intake.find_sender("default") == nullptr);
}

TEST_CASE("the [intake] secret is one sender \"default\" with both scopes", "[config][senders]") {
    for (const std::string& text :
         {std::string(), std::string("[intake]\nsecret_file = \"s\"\n")}) {
        auto c = parse_config(text, "/etc/x/lethe.toml");
        REQUIRE(c.intake.senders.size() == 1);
        const auto& s = c.intake.senders[0];
        CHECK(s.name == "default");
        CHECK(s.from_intake_section);
        CHECK(s.has(config::SenderScope::submit));
        CHECK(s.has(config::SenderScope::read));
        CHECK(s.callback_url.empty());
        CHECK(s.secret_file == (text.empty() ? "" : "/etc/x/s"));
    }
}

TEST_CASE("bad [[intake.sender]] tables are refused with file, line and key", "[config][senders]") {
    const std::string head = "[intake]\n[[intake.sender]]\n";
    CHECK(error_of(head + "secret_file = \"s\"\nscopes = []\n") ==
          "/etc/x/lethe.toml:2: intake.sender[1].name: must be set: a stable name of [a-z0-9-], 1 "
          "to 32 characters (recorded with its requests and in the audit log)");
    CHECK(error_of(head + "name = \"Portal\"\nscopes = []\n") ==
          "/etc/x/lethe.toml:3: intake.sender[1].name: must be 1 to 32 characters of a-z, 0-9 "
          "and - (got \"Portal\")");
    CHECK(error_of(head + "name = \"p\"\n") ==
          "/etc/x/lethe.toml:2: intake.sender[1].scopes: must be set: a list of \"submit\" and/or "
          "\"read\"");
    CHECK(
        error_of(head + "name = \"p\"\nscopes = [\"write\"]\n") ==
        "/etc/x/lethe.toml:4: intake.sender[1].scopes: each scope must be \"submit\" or \"read\"");
    CHECK(error_of(head + "name = \"p\"\nscopes = [\"read\", \"read\"]\n") ==
          "/etc/x/lethe.toml:4: intake.sender[1].scopes: \"read\" is listed twice");
    CHECK(
        error_of(head + "name = \"p\"\nscopes = []\nsecret_file = \"a\"\nsecret_env = \"B\"\n") ==
        "/etc/x/lethe.toml:6: intake.sender[1].secret_env: several secret sources are "
        "configured (secret_file, secret_env); keep exactly one of secret_file, secret_command or "
        "secret_env");
    CHECK(error_of(head + "name = \"p\"\nscopes = []\ncallback_url = \"http://example.com/\"\n") ==
          "/etc/x/lethe.toml:5: intake.sender[1].callback_url: must use https:// (http:// is only "
          "allowed for 127.0.0.1 or [::1] with allow_insecure_loopback = true)");
    CHECK(error_of(head + "name = \"p\"\nscopes = []\ncallback_url = \"http://127.0.0.1:1/\"\n")
              .find("needs allow_insecure_loopback = true") != std::string::npos);
    CHECK(error_of(head + "name = \"p\"\nscopes = []\ncallback_retry_hours = 0\n") ==
          "/etc/x/lethe.toml:5: intake.sender[1].callback_retry_hours: must be between 1 and 720 "
          "(got 0)");
    CHECK(error_of(head + "name = \"p\"\nscopes = []\ncolour = 1\n") ==
          "/etc/x/lethe.toml:5: intake.sender[1].colour: unknown key");
    CHECK(error_of(head + "name = \"p\"\nscopes = []\n[[intake.sender]]\nname = \"p\"\nscopes = "
                          "[]\n") ==
          "/etc/x/lethe.toml:6: intake.sender[2].name: \"p\" is already the name of "
          "intake.sender[1]; names must be unique");
    CHECK(
        error_of("[intake]\nsecret_file = \"s\"\n[[intake.sender]]\nname = \"p\"\nscopes = []\n") ==
        "/etc/x/lethe.toml:2: intake.secret_file: cannot be combined with [[intake.sender]] "
        "tables: give each sender its own secret_file, secret_command or secret_env (the "
        "[intake] secret is the single sender \"default\" when there are no [[intake.sender]] "
        "tables)");
    CHECK(error_of("[intake]\nsender = 3\n") ==
          "/etc/x/lethe.toml:2: intake.sender: expected [[intake.sender]] tables (one per sender)");
}

TEST_CASE("[[audit.witness]] tables and witness_quorum", "[config][witness]") {
    const std::string vkey =
        "witness.example/w1+aa4a09d1+BOpKbGPinFIKvvVQexMuxfmVR3auvr57kkIe6mkURtIs";
    auto table = [&](const std::string& name, const std::string& url, const std::string& key,
                     bool loopback = false) {
        return "[[audit.witness]]\nname = \"" + name + "\"\nurl = \"" + url + "\"\nvkey = \"" +
               key + "\"\n" + (loopback ? "allow_insecure_loopback = true\n" : "");
    };
    auto c = parse_config(table("witness.example/w1", "https://w.example/", vkey), "/x.toml");
    REQUIRE(c.audit.witnesses.size() == 1);
    CHECK(c.audit.witnesses[0].url == "https://w.example");
    CHECK(c.audit.witness_quorum == 1); // the default with witnesses
    CHECK(parse_config("", "/x.toml").audit.witness_quorum == 0);
    CHECK(parse_config(table("witness.example/w1", "http://127.0.0.1:9", vkey, true), "/x.toml")
              .audit.witnesses.size() == 1);

    auto refused = [](const std::string& text, const std::string& why) {
        CHECK_THROWS_WITH(parse_config(text, "/x.toml"), Catch::Contains(why));
    };
    refused(table("other.example/w", "https://w.example", vkey), "must be the name in");
    refused(table("witness.example/w1", "http://w.example", vkey), "must use https://");
    refused(table("witness.example/w1", "http://127.0.0.1:9", vkey), "allow_insecure_loopback");
    // A checkpoint (type 0x01) key is not a witness key.
    refused(table("lethe/x", "https://w.example",
                  "lethe/x+9ae8ba48+AWBYrsypePyRz/jZdrkEeBwOX9sYusM16AToHobQznVM"),
            "audit.witness[1].vkey");
    refused(table("witness.example/w1", "https://a", vkey) +
                table("witness.example/w1", "https://b", vkey),
            "names must be unique");
    refused("[audit]\nwitness_quorum = 2\n" + table("witness.example/w1", "https://a", vkey),
            "larger than the number");
    refused("[[audit.witness]]\nname = \"witness.example/w1\"\n", "must be set");
}
