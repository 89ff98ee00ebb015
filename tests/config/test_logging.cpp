// Tests for src/cli/logging.cpp (kept beside the secrets tests: the redaction backstop is theirs).
#include "cli/logging.hpp"
#include "config/secrets.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace lethe;
using cli::LogFormat;
using cli::LogSettings;

namespace {

// A logger writing into a string.
struct Captured {
    explicit Captured(LogSettings settings) {
        logger = cli::make_logger(settings, std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    }
    std::vector<std::string> lines() const {
        std::vector<std::string> v;
        std::istringstream in(out.str());
        for (std::string line; std::getline(in, line);) {
            v.push_back(line);
        }
        return v;
    }
    std::ostringstream out;
    std::shared_ptr<spdlog::logger> logger;
};

LogSettings settings(LogFormat format, bool journal, const std::string& level = "trace") {
    LogSettings s;
    s.format = format;
    s.journal = journal;
    s.level = level;
    return s;
}

} // namespace

TEST_CASE("under the journal, text lines carry <N> priorities and no timestamp",
          "[config][logging]") {
    Captured c(settings(LogFormat::text, true));
    c.logger->trace("t");
    c.logger->debug("d");
    c.logger->info("i {}", 42);
    c.logger->warn("w");
    c.logger->error("e");
    c.logger->critical("c");
    c.logger->info("first\nsecond");
    CHECK(c.lines() == std::vector<std::string>{"<7>trace: t", "<7>debug: d", "<6>info: i 42",
                                                "<4>warn: w", "<3>error: e", "<2>critical: c",
                                                "<6>info: first", "<6>second"});
}

TEST_CASE("plain text lines carry a timestamp, the pid and the level", "[config][logging]") {
    Captured c(settings(LogFormat::text, false, "info"));
    c.logger->debug("hidden");
    c.logger->warn("shown");
    auto lines = c.lines();
    REQUIRE(lines.size() == 1);
    const std::string tail = " lethe[" + std::to_string(::getpid()) + "] warn: shown";
    REQUIRE(lines[0].size() > tail.size());
    CHECK(lines[0].substr(lines[0].size() - tail.size()) == tail);
    CHECK(lines[0][4] == '-');
    CHECK(lines[0][10] == 'T');
}

TEST_CASE("json lines are one valid object each, whatever the message holds", "[config][logging]") {
    Captured c(settings(LogFormat::json, false, "debug"));
    c.logger->trace("hidden");
    c.logger->debug("quote \" backslash \\ newline \n tab \t bell \x07 end");
    c.logger->warn(std::string("bad utf8 \xff\xfe and \xc3\xa9 ok"));
    c.logger->error("plain");
    auto lines = c.lines();
    REQUIRE(lines.size() == 3);
    std::vector<nlohmann::json> objs;
    for (const auto& l : lines) {
        INFO(l);
        REQUIRE_NOTHROW(objs.push_back(nlohmann::json::parse(l)));
    }
    CHECK(objs[0]["level"] == "debug");
    CHECK(objs[0]["msg"] == "quote \" backslash \\ newline \n tab \t bell \x07 end");
    CHECK(objs[0]["logger"] == "lethe");
    CHECK(objs[1]["level"] == "warn");
    CHECK(objs[1]["msg"] == "bad utf8 \xef\xbf\xbd\xef\xbf\xbd and \xc3\xa9 ok");
    CHECK(objs[2]["level"] == "error");
    for (const auto& o : objs) {
        REQUIRE(o.size() == 4);
        std::string ts = o["ts"];
        CHECK(ts.size() == 24);
        CHECK(ts.back() == 'Z');
    }
}

TEST_CASE("json under the journal keeps the priority prefix outside the object",
          "[config][logging]") {
    Captured c(settings(LogFormat::json, true));
    c.logger->warn("w");
    auto lines = c.lines();
    REQUIRE(lines.size() == 1);
    REQUIRE(lines[0].rfind("<4>{", 0) == 0);
    CHECK(nlohmann::json::parse(lines[0].substr(3))["msg"] == "w");
}

TEST_CASE("registered secrets and the Basic credential are redacted in every format",
          "[config][logging]") {
    const std::string key = "cio-track-key-7d1f0c";
    const std::string basic = config::base64_encode("site-9:" + key);
    cli::register_secret_for_redaction(key);
    config::register_secret_for_redaction(basic);
    for (auto format : {LogFormat::text, LogFormat::json}) {
        Captured c(settings(format, false));
        c.logger->info("key={} header=Authorization: Basic {}", key, basic);
        INFO(c.out.str());
        CHECK(c.out.str().find(key) == std::string::npos);
        CHECK(c.out.str().find(basic) == std::string::npos);
        CHECK(c.out.str().find("key=[redacted] header=Authorization: Basic [redacted]") !=
              std::string::npos);
    }
}

TEST_CASE("levels, formats and the journal check", "[config][logging]") {
    CHECK(cli::parse_log_format("text") == LogFormat::text);
    CHECK(cli::parse_log_format("json") == LogFormat::json);
    CHECK_THROWS_AS(cli::parse_log_format("xml"), Error);
    CHECK_THROWS_AS(cli::make_logger(settings(LogFormat::text, false, "loud"),
                                     std::make_shared<spdlog::sinks::ostream_sink_mt>(std::cerr)),
                    Error);
    CHECK(cli::syslog_priority(spdlog::level::trace) == 7);
    CHECK(cli::syslog_priority(spdlog::level::info) == 6);
    CHECK(cli::syslog_priority(spdlog::level::warn) == 4);
    CHECK(cli::syslog_priority(spdlog::level::err) == 3);
    CHECK(cli::syslog_priority(spdlog::level::critical) == 2);

    struct stat st {};
    REQUIRE(::fstat(STDERR_FILENO, &st) == 0);
    std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    const char* old = std::getenv("JOURNAL_STREAM");
    std::string saved = old != nullptr ? old : "";
    ::setenv("JOURNAL_STREAM", mine.c_str(), 1);
    CHECK(cli::stderr_is_journal());
    ::setenv("JOURNAL_STREAM", "1:2", 1);
    CHECK_FALSE(cli::stderr_is_journal());
    ::setenv("JOURNAL_STREAM", "garbage", 1);
    CHECK_FALSE(cli::stderr_is_journal());
    ::unsetenv("JOURNAL_STREAM");
    CHECK_FALSE(cli::stderr_is_journal());
    if (old != nullptr) {
        ::setenv("JOURNAL_STREAM", saved.c_str(), 1);
    }
}
