#include "config/config.hpp"
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
    CHECK(c.customerio.region == "us");
    CHECK(c.customerio.track_url == "https://track.customer.io");
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
    CHECK(c.customerio.track_url == "https://track-eu.customer.io");
    CHECK(c.customerio.timeout_ms == 2500);
    CHECK(c.customerio.allow_insecure_loopback);
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
