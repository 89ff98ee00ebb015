#include "config/config.hpp"
#include "config/secrets.hpp"
#include "support/tempdir.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <optional>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace lethe;
using namespace std::chrono_literals;
using config::resolve_secret;
using config::SecretSpec;
using lethe::test::TempDir;
using lethe::test::write_text;

namespace {

// Sets (or unsets) an environment variable for the life of the object.
class ScopedEnv {
public:
    ScopedEnv(const char* name, std::optional<std::string> value) : m_name(name) {
        if (const char* old = std::getenv(name)) {
            m_old = old;
        }
        if (value) {
            ::setenv(name, value->c_str(), 1);
        } else {
            ::unsetenv(name);
        }
    }
    ~ScopedEnv() {
        if (m_old) {
            ::setenv(m_name.c_str(), m_old->c_str(), 1);
        } else {
            ::unsetenv(m_name.c_str());
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::string m_name;
    std::optional<std::string> m_old;
};

SecretSpec api_key_spec() {
    SecretSpec s;
    s.name = "track-api-key";
    s.config_prefix = "customerio.api_key";
    s.config_file = "/etc/lethe/lethe.toml";
    return s;
}

// Writes a secret file with the given mode.
std::string secret_file(const TempDir& dir, const std::string& name, const std::string& content,
                        mode_t mode = 0600) {
    auto p = dir / name;
    write_text(p, content);
    REQUIRE(::chmod(p.c_str(), mode) == 0);
    return p.string();
}

// The ConfigError message of resolving `spec`, or "(no error)".
std::string error_of(const SecretSpec& spec, std::chrono::milliseconds timeout = 10s) {
    try {
        resolve_secret(spec, timeout);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

const std::string k_secret = "sk-live-3f9a7c1e55d04b2a";

} // namespace

TEST_CASE("a secret comes from a file; trailing newline and CR are stripped", "[config][secrets]") {
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", std::nullopt);
    TempDir dir;
    auto spec = api_key_spec();
    spec.file = secret_file(dir, "key", k_secret + "\r\n");
    auto s = resolve_secret(spec);
    CHECK(s.value == k_secret);
    CHECK(s.origin == "file " + spec.file);
    CHECK_FALSE(contains(s.origin, k_secret));
}

TEST_CASE("a secret comes from an environment variable", "[config][secrets]") {
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", std::nullopt);
    ScopedEnv var("LETHE_TEST_TRACK_KEY", k_secret + "\n");
    auto spec = api_key_spec();
    spec.env = "LETHE_TEST_TRACK_KEY";
    auto s = resolve_secret(spec);
    CHECK(s.value == k_secret);
    CHECK(s.origin == "environment LETHE_TEST_TRACK_KEY");

    ScopedEnv unset("LETHE_TEST_TRACK_KEY", std::nullopt);
    CHECK(error_of(spec) == "/etc/lethe/lethe.toml: customerio.api_key_env: environment variable "
                            "LETHE_TEST_TRACK_KEY is not set");
    ScopedEnv empty("LETHE_TEST_TRACK_KEY", "");
    CHECK(contains(error_of(spec), "LETHE_TEST_TRACK_KEY is empty"));
}

TEST_CASE("a secret comes from the first line of a command's output", "[config][secrets]") {
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", std::nullopt);
    auto spec = api_key_spec();
    spec.command = "/bin/sh -c 'printf \"%s\\r\\nsecond line\\n\" " + k_secret + "'";
    auto s = resolve_secret(spec);
    CHECK(s.value == k_secret);
    CHECK(s.origin == "command /bin/sh");

    // PATH lookup, no shell: the '|' is just an argument to echo.
    spec.command = "echo " + k_secret + " | head";
    CHECK(resolve_secret(spec).value == k_secret + " | head");
}

TEST_CASE("a systemd credential wins over the configured source", "[config][secrets]") {
    TempDir creds;
    // systemd makes the directory and its files; lethe trusts their modes as they are.
    write_text(creds / "track-api-key", k_secret + "\n");
    REQUIRE(::chmod((creds / "track-api-key").c_str(), 0644) == 0);
    ScopedEnv env("CREDENTIALS_DIRECTORY", creds.path().string() + "/");
    ScopedEnv var("LETHE_TEST_TRACK_KEY", "from-env");
    auto spec = api_key_spec();
    spec.env = "LETHE_TEST_TRACK_KEY";
    auto s = resolve_secret(spec);
    CHECK(s.value == k_secret);
    CHECK(s.origin == "systemd credential track-api-key");

    // With no configured source at all, the credential alone is enough.
    spec.env.clear();
    CHECK(resolve_secret(spec).value == k_secret);

    // Another name is not there: the configured source is used.
    spec.name = "intake-secret";
    spec.env = "LETHE_TEST_TRACK_KEY";
    CHECK(resolve_secret(spec).origin == "environment LETHE_TEST_TRACK_KEY");
}

TEST_CASE("no source, or several, is an error that names the keys to set", "[config][secrets]") {
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", std::nullopt);
    auto spec = api_key_spec();
    CHECK(error_of(spec) ==
          "/etc/lethe/lethe.toml: customerio.api_key: no source is configured; set one of "
          "customerio.api_key_file, customerio.api_key_command or customerio.api_key_env (or "
          "pass the systemd credential track-api-key with LoadCredential=)");
    spec.file = "/etc/lethe/key";
    spec.env = "CUSTOMERIO_TRACK_API_KEY";
    CHECK(error_of(spec) ==
          "/etc/lethe/lethe.toml: customerio.api_key: several sources are configured "
          "(customerio.api_key_file, customerio.api_key_env); keep exactly one of "
          "customerio.api_key_file, customerio.api_key_command or customerio.api_key_env");
    spec.command = "pass show x";
    CHECK(contains(error_of(spec), "(customerio.api_key_file, customerio.api_key_command, "
                                   "customerio.api_key_env)"));
}

TEST_CASE("secret files readable by group or others are refused with the fix",
          "[config][secrets]") {
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", std::nullopt);
    TempDir dir;
    for (mode_t mode : {0644, 0640, 0604, 0660, 0601}) {
        auto spec = api_key_spec();
        spec.file = secret_file(dir, "key", k_secret + "\n", mode);
        auto msg = error_of(spec);
        INFO(msg);
        CHECK(contains(msg, "customerio.api_key_file: " + spec.file + ": permissions 0"));
        CHECK(contains(msg, "are too open"));
        CHECK(contains(msg, "chmod 600 " + spec.file));
        CHECK_FALSE(contains(msg, k_secret));
        CHECK_THROWS_AS(config::check_private_file(spec.file), ConfigError);
    }
    auto ok = secret_file(dir, "ok", k_secret, 0400);
    CHECK_NOTHROW(config::check_private_file(ok));
}

TEST_CASE("secret files owned by another user are refused with the fix", "[config][secrets]") {
    if (::geteuid() != 0) {
        WARN("not root: cannot chown a file to another user; skipped");
        return;
    }
    // As root we can give the file away and still read it: the check must refuse it anyway.
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", std::nullopt);
    TempDir dir;
    auto spec = api_key_spec();
    spec.file = secret_file(dir, "key", k_secret, 0600);
    REQUIRE(::chown(spec.file.c_str(), 65534, 65534) == 0);
    auto msg = error_of(spec);
    INFO(msg);
    CHECK(contains(msg, spec.file + ": owned by "));
    CHECK(contains(msg, "chown root " + spec.file));
    CHECK(contains(msg, "run lethe as its owner (`sudo -u "));
    CHECK_FALSE(contains(msg, k_secret));
}

TEST_CASE("missing, empty and non-regular secret files are errors", "[config][secrets]") {
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", std::nullopt);
    TempDir dir;
    auto spec = api_key_spec();
    spec.file = (dir / "absent").string();
    CHECK(contains(error_of(spec), spec.file + ": cannot open: No such file or directory"));
    spec.file = secret_file(dir, "empty", "\n");
    CHECK(error_of(spec) ==
          "/etc/lethe/lethe.toml: customerio.api_key: " + spec.file + " is empty");
    spec.file = dir.path().string();
    CHECK(contains(error_of(spec), "not a regular file"));
}

TEST_CASE("a failing command gives its exit status, never the secret", "[config][secrets]") {
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", std::nullopt);
    auto spec = api_key_spec();
    spec.command = "/bin/sh -c 'echo " + k_secret + "; echo \"vault: permission denied " +
                   k_secret + "\" >&2; exit 1'";
    auto msg = error_of(spec);
    INFO(msg);
    CHECK(contains(msg, "customerio.api_key_command: `/bin/sh` exited with status 1"));
    CHECK(contains(msg, "(stderr: vault: permission denied [redacted])"));
    CHECK_FALSE(contains(msg, k_secret));

    spec.command = "/bin/sh -c 'kill -9 $$'";
    CHECK(contains(error_of(spec), "was killed by signal 9"));
    spec.command = "/bin/true";
    CHECK(contains(error_of(spec), "`/bin/true` printed nothing on its first line"));
    spec.command = "/nonexistent/secret-tool get";
    CHECK(contains(error_of(spec), "cannot run `/nonexistent/secret-tool`: No such file"));
    spec.command = "pass 'show";
    CHECK(contains(error_of(spec), "customerio.api_key_command: unterminated ' in command"));
}

TEST_CASE("a command that runs too long is killed with a clear error", "[config][secrets]") {
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", std::nullopt);
    auto spec = api_key_spec();
    // A shell that ignores SIGTERM and a child holding the pipe: only the group SIGKILL ends it.
    spec.command = "/bin/sh -c 'trap \"\" TERM; echo " + k_secret + "; sleep 5; sleep 5'";
    auto start = std::chrono::steady_clock::now();
    auto msg = error_of(spec, 200ms);
    auto elapsed = std::chrono::steady_clock::now() - start;
    INFO(msg);
    CHECK(contains(msg, "customerio.api_key_command: `/bin/sh` did not finish within 200 ms and "
                        "was killed"));
    CHECK(contains(msg, "customerio.api_key_command_timeout_ms"));
    CHECK_FALSE(contains(msg, k_secret));
    CHECK(elapsed < 4s);

    spec.command = "sleep 5";
    start = std::chrono::steady_clock::now();
    CHECK(contains(error_of(spec, 200ms), "`sleep` did not finish within 200 ms"));
    CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("commands are split without a shell", "[config][secrets]") {
    using V = std::vector<std::string>;
    CHECK(config::split_command("pass show customerio/track") ==
          V{"pass", "show", "customerio/track"});
    CHECK(config::split_command("  a\t b  ") == V{"a", "b"});
    CHECK(config::split_command("a 'b c' \"d \\\" e\" f\\ g") == V{"a", "b c", "d \" e", "f g"});
    CHECK(config::split_command("x'y'\"z\"") == V{"xyz"});
    CHECK(config::split_command("a '' b") == V{"a", "", "b"});
    CHECK(config::split_command("'$HOME' ~ *") == V{"$HOME", "~", "*"});
    CHECK_THROWS_AS(config::split_command(""), ConfigError);
    CHECK_THROWS_AS(config::split_command("a \"b"), ConfigError);
    CHECK_THROWS_AS(config::split_command("a\\"), ConfigError);
}

TEST_CASE("key files: systemd credential path and private-file check", "[config][secrets]") {
    TempDir creds;
    TempDir data;
    auto configured = data / "subject.key";
    {
        ScopedEnv none("CREDENTIALS_DIRECTORY", std::nullopt);
        CHECK(config::secret_file_path("subject-key", configured) == configured);
    }
    ScopedEnv env("CREDENTIALS_DIRECTORY", creds.path().string());
    CHECK(config::secret_file_path("subject-key", configured) == configured);
    write_text(creds / "subject-key", "00ff\n");
    REQUIRE(::chmod((creds / "subject-key").c_str(), 0440) == 0);
    CHECK(config::secret_file_path("subject-key", configured) == creds / "subject-key");
    CHECK(config::is_systemd_credential(creds / "subject-key"));
    CHECK_FALSE(config::is_systemd_credential(configured));
    CHECK_NOTHROW(config::check_private_file(creds / "subject-key"));
    write_text(configured, "00ff\n");
    REQUIRE(::chmod(configured.c_str(), 0644) == 0);
    CHECK_THROWS_WITH(config::check_private_file(configured),
                      Catch::Contains("chmod 600 " + configured.string()));
}

TEST_CASE("the Track API key spec follows [customerio]", "[config][secrets]") {
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", std::nullopt);
    auto c = config::parse_config("[customerio]\nsite_id = \"site-1\"\n"
                                  "api_key_env = \"LETHE_TEST_TRACK_KEY\"\n"
                                  "api_key_command_timeout_ms = 2500\n",
                                  "/srv/lethe/lethe.toml");
    REQUIRE(c.workspaces.size() == 1);
    auto spec = config::track_api_key_spec(c, c.workspaces[0]);
    CHECK(spec.name == "track-api-key");
    CHECK(spec.env == "LETHE_TEST_TRACK_KEY");
    CHECK(spec.config_prefix == "customerio.api_key");
    CHECK(spec.config_file == "/srv/lethe/lethe.toml");

    ScopedEnv var("LETHE_TEST_TRACK_KEY", "track-key-for-redaction");
    auto s = config::resolve_track_api_key(c, c.workspaces[0]);
    CHECK(s.value == "track-key-for-redaction");
    std::string line = "key track-key-for-redaction basic " +
                       config::base64_encode("site-1:track-key-for-redaction");
    CHECK(config::redact_secrets(line));
    CHECK(line == "key [redacted] basic [redacted]");
}

TEST_CASE("the intake secret follows [intake]: one key, or two during a rotation",
          "[config][secrets]") {
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", std::nullopt);
    TempDir dir;
    auto file = secret_file(dir, "intake", "intake-current-7a1c\r\nintake-next-9b2d\n");
    auto c = config::parse_config("[intake]\nsecret_file = \"" + file + "\"\n", "/x/l.toml");
    auto spec = config::intake_secret_spec(c);
    CHECK(spec.name == "intake-secret");
    CHECK(spec.config_prefix == "intake.secret");
    auto s = config::resolve_intake_secrets(c);
    CHECK(s.keys == std::vector<std::string>{"intake-current-7a1c", "intake-next-9b2d"});
    CHECK(s.origin == "file " + file);
    // Each line is redacted on its own, not only the two lines together.
    std::string line = "a intake-next-9b2d b";
    CHECK(config::redact_secrets(line));
    CHECK(line == "a [redacted] b");

    ScopedEnv one("LETHE_TEST_INTAKE", "only-one-key-42\n");
    auto from_env =
        config::parse_config("[intake]\nsecret_env = \"LETHE_TEST_INTAKE\"\n", "/x.toml");
    CHECK(config::resolve_intake_secrets(from_env).keys ==
          std::vector<std::string>{"only-one-key-42"});

    auto error_with = [&](const std::string& content) {
        write_text(file, content);
        try {
            config::resolve_intake_secrets(c);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    CHECK(contains(error_with("k1-aaaa\nk2-bbbb\nk3-cccc\n"), "holds 3 lines"));
    CHECK_FALSE(contains(error_with("k1-aaaa\nk2-bbbb\nk3-cccc\n"), "k1-aaaa"));
    CHECK(contains(error_with("k1-aaaa\n\nk3-cccc"), "holds 3 lines"));
    CHECK(contains(error_with("\nk2-bbbb"), "has an empty line"));
    CHECK(contains(error_with("\n"), "is empty"));
}

TEST_CASE("an intake secret_command may print the current and the next secret",
          "[config][secrets]") {
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", std::nullopt);
    auto c = config::parse_config("[intake]\nsecret_command = \"/bin/printf "
                                  "'intake-cmd-cur-51\\\\nintake-cmd-next-62\\\\n'\"\n",
                                  "/x/l.toml");
    auto s = config::resolve_intake_secrets(c);
    CHECK(s.keys == std::vector<std::string>{"intake-cmd-cur-51", "intake-cmd-next-62"});
    std::string line = "x intake-cmd-next-62 y";
    CHECK(config::redact_secrets(line));
    CHECK(line == "x [redacted] y");
    // The Track API key still takes the first line only.
    auto t = config::parse_config("[customerio]\nsite_id = \"s\"\napi_key_command = \"/bin/printf "
                                  "'track-first-73\\\\nsecond-line'\"\n",
                                  "/x/l.toml");
    CHECK(config::resolve_track_api_key(t, t.workspaces.at(0)).value == "track-first-73");
}

TEST_CASE("a short intake secret is accepted with a warning that does not show it",
          "[config][secrets]") {
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", std::nullopt);
    std::ostringstream out;
    auto previous = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(
        "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(out)));
    ScopedEnv short_key("LETHE_TEST_INTAKE", "short-secret-17b\n" + std::string(64, 'f') + "\n");
    auto c = config::parse_config("[intake]\nsecret_env = \"LETHE_TEST_INTAKE\"\n", "/x.toml");
    auto s = config::resolve_intake_secrets(c);
    spdlog::set_default_logger(previous);
    CHECK(s.keys.size() == 2);
    const std::string log = out.str();
    CHECK(log.find("line 1 is only 16 bytes long") != std::string::npos);
    CHECK(log.find("line 2") == std::string::npos);
    CHECK(log.find("short-secret-17b") == std::string::npos);
}

TEST_CASE("api_key_command_timeout_ms is validated like every key", "[config][secrets]") {
    CHECK(config::parse_config("[customerio]\n", "/x/lethe.toml")
              .workspaces.at(0)
              .api_key_command_timeout_ms == 10'000);
    CHECK(config::parse_config("[customerio]\napi_key_command_timeout_ms = 200\n", "/x/l.toml")
              .workspaces.at(0)
              .api_key_command_timeout_ms == 200);
    auto err = [](const std::string& text) {
        try {
            config::parse_config(text, "/x/lethe.toml");
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    CHECK(err("[customerio]\n\napi_key_command_timeout_ms = 0\n") ==
          "/x/lethe.toml:3: customerio.api_key_command_timeout_ms: must be between 1 and 600000 "
          "(got 0)");
    CHECK(err("[customerio]\napi_key_command_timeout_ms = \"10s\"\n") ==
          "/x/lethe.toml:2: customerio.api_key_command_timeout_ms: expected an integer");
}

TEST_CASE("redaction and Base64", "[config][secrets]") {
    CHECK(config::base64_encode("") == "");
    CHECK(config::base64_encode("f") == "Zg==");
    CHECK(config::base64_encode("fo") == "Zm8=");
    CHECK(config::base64_encode("foo") == "Zm9v");
    CHECK(config::base64_encode("site:key") == "c2l0ZTprZXk=");

    config::register_secret_for_redaction("");
    config::register_secret_for_redaction("abc-secret-xyz");
    config::register_secret_for_redaction("abc-secret-xyz-longer");
    std::string text = "a abc-secret-xyz-longer b abc-secret-xyz c";
    CHECK(config::redact_secrets(text));
    CHECK(text == "a [redacted] b [redacted] c");
    std::string clean = "nothing here";
    CHECK_FALSE(config::redact_secrets(clean));
}

namespace {

const char* const k_two_workspaces = R"(
[[workspace]]
name = "us-main"
site_id = "site-us"
environment_id = 101
api_key_env = "LETHE_TEST_US_KEY"

[[workspace]]
name = "eu-main"
region = "eu"
site_id = "site-eu"
environment_id = 202
app_api_key_env = "LETHE_TEST_EU_APP_KEY"
)";

std::string resolve_error(const std::function<void()>& f) {
    try {
        f();
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace

TEST_CASE("each workspace has its own Track API key spec and credential name",
          "[config][secrets][workspace]") {
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", std::nullopt);
    auto c = config::parse_config(k_two_workspaces, "/srv/lethe/lethe.toml");
    const auto& us = *c.find_workspace("us-main");
    const auto& eu = *c.find_workspace("eu-main");
    auto spec = config::track_api_key_spec(c, us);
    CHECK(spec.name == "track-api-key.us-main");
    CHECK(spec.env == "LETHE_TEST_US_KEY");
    CHECK(spec.config_prefix == "workspace.us-main.api_key");
    CHECK(spec.config_file == "/srv/lethe/lethe.toml");
    CHECK(config::track_api_key_credential(eu) == "track-api-key.eu-main");
    CHECK(config::app_api_key_credential(eu) == "app-api-key.eu-main");
    CHECK(config::app_api_key_spec(c, eu).config_prefix == "workspace.eu-main.app_api_key");
    CHECK(config::app_api_key_spec(c, eu).name == "app-api-key.eu-main");

    ScopedEnv var("LETHE_TEST_US_KEY", "us-track-key-5d1e");
    auto s = config::resolve_track_api_key(c, us);
    CHECK(s.value == "us-track-key-5d1e");
    std::string line = "basic " + config::base64_encode("site-us:us-track-key-5d1e");
    CHECK(config::redact_secrets(line));
    CHECK(line == "basic [redacted]");
    // eu-main names no Track key source: the message names the workspace and its credential.
    CHECK(resolve_error([&] { config::resolve_track_api_key(c, eu); }) ==
          "/srv/lethe/lethe.toml: workspace.eu-main.api_key: no source is configured; set one of "
          "workspace.eu-main.api_key_file, workspace.eu-main.api_key_command or "
          "workspace.eu-main.api_key_env (or pass the systemd credential track-api-key.eu-main "
          "with LoadCredential=)");
}

TEST_CASE("a workspace's keys come from its systemd credentials track-api-key.NAME and "
          "app-api-key.NAME",
          "[config][secrets][workspace]") {
    TempDir creds;
    ScopedEnv dir("CREDENTIALS_DIRECTORY", creds.path().string());
    ScopedEnv no_env("LETHE_TEST_US_KEY", std::nullopt);
    auto c = config::parse_config(k_two_workspaces, "/srv/lethe/lethe.toml");
    const auto& us = *c.find_workspace("us-main");
    const auto& eu = *c.find_workspace("eu-main");
    write_text(creds / "track-api-key.eu-main", "eu-cred-key-77aa\n");
    write_text(creds / "track-api-key", "unsuffixed-key-is-not-eu\n");
    auto s = config::resolve_track_api_key(c, eu);
    CHECK(s.value == "eu-cred-key-77aa");
    CHECK(s.origin == "systemd credential track-api-key.eu-main");
    // us-main has no credential of its own; the unsuffixed one belongs to [customerio] only, so
    // its configured variable is used (and is unset here).
    CHECK(resolve_error([&] {
              config::resolve_track_api_key(c, us);
          }).find("workspace.us-main.api_key_env: environment variable LETHE_TEST_US_KEY") !=
          std::string::npos);
    // The App API key is optional: absent is not an error.
    CHECK_FALSE(us.has_app_api_key());
    CHECK_FALSE(config::resolve_app_api_key(c, us));
    write_text(creds / "app-api-key.us-main", "us-app-cred-31f0\n");
    CHECK(us.has_app_api_key());
    auto app = config::resolve_app_api_key(c, us);
    REQUIRE(app);
    CHECK(app->value == "us-app-cred-31f0");
    CHECK(app->origin == "systemd credential app-api-key.us-main");

    // A [customerio] config keeps the unsuffixed names.
    auto legacy = config::parse_config("[customerio]\nsite_id = \"s\"\n", "/x.toml");
    write_text(creds / "app-api-key", "legacy-app-key-1234\n");
    CHECK(config::resolve_track_api_key(legacy, legacy.workspaces[0]).value ==
          "unsuffixed-key-is-not-eu");
    CHECK(config::resolve_app_api_key(legacy, legacy.workspaces[0])->value ==
          "legacy-app-key-1234");
    CHECK(config::app_api_key_spec(legacy, legacy.workspaces[0]).config_prefix ==
          "customerio.app_api_key");
}

TEST_CASE("the App API key is redacted, also as a Bearer header, and never in errors",
          "[config][secrets][workspace]") {
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", std::nullopt);
    auto c = config::parse_config(k_two_workspaces, "/srv/lethe/lethe.toml");
    const auto& eu = *c.find_workspace("eu-main");
    CHECK(eu.has_app_api_key());
    {
        ScopedEnv unset("LETHE_TEST_EU_APP_KEY", std::nullopt);
        const std::string msg = resolve_error([&] { config::resolve_app_api_key(c, eu); });
        CHECK(msg.find("workspace.eu-main.app_api_key_env") != std::string::npos);
    }
    ScopedEnv var("LETHE_TEST_EU_APP_KEY", "eu-app-key-c0ffee42");
    auto app = config::resolve_app_api_key(c, eu);
    REQUIRE(app);
    CHECK(app->value == "eu-app-key-c0ffee42");
    std::string line = "Authorization: Bearer eu-app-key-c0ffee42; again eu-app-key-c0ffee42";
    CHECK(config::redact_secrets(line));
    CHECK(line == "Authorization: [redacted]; again [redacted]");

    // A command's time-out names the shared timeout key, and the output never the key.
    auto slow = config::parse_config("[[workspace]]\nname = \"w\"\nsite_id = \"s\"\n"
                                     "environment_id = 1\napp_api_key_command = \"sleep 5\"\n"
                                     "api_key_command_timeout_ms = 100\n",
                                     "/x.toml");
    const std::string msg =
        resolve_error([&] { config::resolve_app_api_key(slow, slow.workspaces[0]); });
    CHECK(msg.find("workspace.w.app_api_key_command: `sleep` did not finish within 100 ms") !=
          std::string::npos);
    CHECK(msg.find("workspace.w.api_key_command_timeout_ms") != std::string::npos);
}

TEST_CASE("a rejected secret is never registered for redaction", "[config][secrets][redaction]") {
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", std::nullopt);
    TempDir dir;
    // Three short lines: refused, and none of them marks its characters in later messages.
    auto file = secret_file(dir, "intake", "qz\nxw\nvy\n");
    auto c = config::parse_config("[intake]\nsecret_file = \"" + file + "\"\n", "/x/l.toml");
    std::string msg;
    try {
        config::resolve_intake_secrets(c);
    } catch (const ConfigError& e) {
        msg = e.what();
    }
    CHECK(contains(msg, "holds 3 lines"));
    std::string text = "qz xw vy " + msg;
    CHECK_FALSE(config::redact_secrets(text));

    // A key file of two lines is refused (a key is one line), and neither line is registered.
    auto spec = api_key_spec();
    spec.file = secret_file(dir, "two-lines", "trk-first-line-81\ntrk-second-line-82\n");
    auto err = error_of(spec);
    CHECK(contains(err, "holds a line break or another control character"));
    CHECK_FALSE(contains(err, "trk-first-line-81"));
    std::string line = "trk-first-line-81 trk-second-line-82";
    CHECK_FALSE(config::redact_secrets(line));

    // An intake secret with a control character inside a line: refused, not registered.
    write_text(file, "intake-ok-line-93\nintake-\x01-bad-94\n");
    msg.clear();
    try {
        config::resolve_intake_secrets(c);
    } catch (const ConfigError& e) {
        msg = e.what();
    }
    CHECK(contains(msg, "line 2 holds a control character"));
    line = "intake-ok-line-93";
    CHECK_FALSE(config::redact_secrets(line));
}

TEST_CASE("each sender has its own secrets; two senders sharing one is refused",
          "[config][secrets][senders]") {
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", std::nullopt);
    TempDir dir;
    auto portal = secret_file(dir, "portal", "portal-current-1\nportal-next-2\n");
    auto form = secret_file(dir, "form", "form-only-3\n");
    const std::string text = "[intake]\n[[intake.sender]]\nname = \"portal\"\nsecret_file = \"" +
                             portal +
                             "\"\nscopes = [\"submit\"]\n[[intake.sender]]\nname = "
                             "\"form\"\nsecret_file = \"" +
                             form + "\"\nscopes = [\"read\"]\n";
    auto c = config::parse_config(text, "/x/l.toml");
    auto spec = config::sender_secret_spec(c, c.intake.senders[0]);
    CHECK(spec.name == "intake-secret.portal");
    CHECK(spec.config_prefix == "intake.sender.portal.secret");
    auto all = config::resolve_all_sender_secrets(c);
    REQUIRE(all.size() == 2);
    CHECK(all[0].sender->name == "portal");
    CHECK(all[0].secrets.keys == std::vector<std::string>{"portal-current-1", "portal-next-2"});
    CHECK(all[1].secrets.keys == std::vector<std::string>{"form-only-3"});

    write_text(form, "form-only-3\nportal-next-2\n");
    try {
        config::resolve_all_sender_secrets(c);
        FAIL("a shared secret was accepted");
    } catch (const ConfigError& e) {
        const std::string msg = e.what();
        CHECK(msg == "/x/l.toml: intake senders \"portal\" and \"form\" have the same secret; "
                     "each sender needs its own");
        CHECK(msg.find("portal-next-2") == std::string::npos);
    }
}
