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
