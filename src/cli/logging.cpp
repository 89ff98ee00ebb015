#include "cli/logging.hpp"

#include "util/error.hpp"
#include "util/strings.hpp"

#include <cstdlib>
#include <ctime>
#include <mutex>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lethe::cli {
namespace {

void append(spdlog::memory_buf_t& dest, std::string_view s) {
    dest.append(s.data(), s.data() + s.size());
}

// Replaces each byte that does not start a well-formed UTF-8 sequence with U+FFFD, so a JSON
// line stays parseable whatever a message carries.
std::string valid_utf8(std::string_view s) {
    if (is_valid_utf8(s)) {
        return std::string(s);
    }
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80           ? 1
                          : (c >> 5) == 0x6  ? 2
                          : (c >> 4) == 0xe  ? 3
                          : (c >> 3) == 0x1e ? 4
                                             : 0;
        if (len != 0 && i + len <= s.size() && is_valid_utf8(s.substr(i, len))) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            out += "\xef\xbf\xbd";
            ++i;
        }
    }
    return out;
}

std::string utc_timestamp(spdlog::log_clock::time_point t) {
    using namespace std::chrono;
    auto secs = time_point_cast<seconds>(t);
    auto ms = duration_cast<milliseconds>(t - secs).count();
    std::time_t tt = system_clock::to_time_t(secs);
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[40];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
    return buf;
}

std::string local_timestamp(spdlog::log_clock::time_point t) {
    using namespace std::chrono;
    auto secs = time_point_cast<seconds>(t);
    auto ms = duration_cast<milliseconds>(t - secs).count();
    std::time_t tt = system_clock::to_time_t(secs);
    std::tm tm{};
    ::localtime_r(&tt, &tm);
    char date[32];
    char zone[8];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    std::strftime(zone, sizeof zone, "%z", &tm);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s.%03d%s", date, static_cast<int>(ms), zone);
    return buf;
}

// Formats one record as text (with or without journal prefixes) or as a JSON object.
class LineFormatter : public spdlog::formatter {
public:
    LineFormatter(LogFormat format, bool journal)
        : m_format(format), m_journal(journal), m_pid(::getpid()) {}

    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        std::string_view payload(msg.payload.data(), msg.payload.size());
        std::string prefix =
            m_journal ? "<" + std::to_string(syslog_priority(msg.level)) + ">" : std::string();
        if (m_format == LogFormat::json) {
            std::string line = prefix + "{\"ts\":";
            append_json_string(line, utc_timestamp(msg.time));
            line += ",\"level\":";
            append_json_string(line, level_name(msg.level));
            line += ",\"msg\":";
            append_json_string(line, valid_utf8(payload));
            line += ",\"logger\":";
            append_json_string(line, valid_utf8({msg.logger_name.data(), msg.logger_name.size()}));
            line += "}\n";
            append(dest, line);
            return;
        }
        std::string head =
            m_journal ? prefix
                      : local_timestamp(msg.time) + " lethe[" + std::to_string(m_pid) + "] ";
        head += level_name(msg.level);
        head += ": ";
        append(dest, head);
        // journald starts a new entry at every newline: repeat the priority so a continuation
        // line keeps the record's priority instead of falling back to "info".
        std::size_t start = 0;
        for (;;) {
            std::size_t nl = payload.find('\n', start);
            if (nl == std::string_view::npos) {
                append(dest, payload.substr(start));
                break;
            }
            append(dest, payload.substr(start, nl + 1 - start));
            if (m_journal) {
                append(dest, prefix);
            }
            start = nl + 1;
        }
        append(dest, "\n");
    }

    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<LineFormatter>(m_format, m_journal);
    }

private:
    LogFormat m_format;
    bool m_journal;
    int m_pid;
};

// Forwards each record to a target sink with registered secrets replaced.
class RedactingSink : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit RedactingSink(std::shared_ptr<spdlog::sinks::sink> target)
        : m_target(std::move(target)) {}

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        std::string text(msg.payload.data(), msg.payload.size());
        if (!config::redact_secrets(text)) {
            m_target->log(msg);
            return;
        }
        spdlog::details::log_msg copy(msg);
        copy.payload = spdlog::string_view_t(text.data(), text.size());
        m_target->log(copy);
    }
    void flush_() override { m_target->flush(); }
    // The target formats; this sink's own formatter is never used.
    void set_formatter_(std::unique_ptr<spdlog::formatter> f) override {
        m_target->set_formatter(std::move(f));
    }
    void set_pattern_(const std::string& pattern) override { m_target->set_pattern(pattern); }

private:
    std::shared_ptr<spdlog::sinks::sink> m_target;
};

spdlog::level::level_enum parse_level(const std::string& name) {
    auto level = spdlog::level::from_str(name);
    if (level == spdlog::level::off && name != "off") {
        throw Error(ExitCode::usage, "--log-level: unknown level \"" + name +
                                         "\" (trace, debug, info, warn, error, critical, off)");
    }
    return level;
}

} // namespace

LogFormat parse_log_format(std::string_view name) {
    if (name == "text") {
        return LogFormat::text;
    }
    if (name == "json") {
        return LogFormat::json;
    }
    throw Error(ExitCode::usage,
                "--log-format: unknown format \"" + std::string(name) + "\" (text, json)");
}

bool stderr_is_journal() {
    const char* env = std::getenv("JOURNAL_STREAM");
    if (env == nullptr || *env == '\0') {
        return false;
    }
    unsigned long long dev = 0;
    unsigned long long ino = 0;
    if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) {
        return false;
    }
    struct stat st {};
    if (::fstat(STDERR_FILENO, &st) != 0) {
        return false;
    }
    return static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
}

int syslog_priority(spdlog::level::level_enum level) {
    switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
        return 7;
    case spdlog::level::info:
        return 6;
    case spdlog::level::warn:
        return 4;
    case spdlog::level::err:
        return 3;
    case spdlog::level::critical:
        return 2;
    default:
        return 6;
    }
}

std::string_view level_name(spdlog::level::level_enum level) {
    switch (level) {
    case spdlog::level::trace:
        return "trace";
    case spdlog::level::debug:
        return "debug";
    case spdlog::level::info:
        return "info";
    case spdlog::level::warn:
        return "warn";
    case spdlog::level::err:
        return "error";
    case spdlog::level::critical:
        return "critical";
    default:
        return "off";
    }
}

std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format, bool journal) {
    return std::make_unique<LineFormatter>(format, journal);
}

std::shared_ptr<spdlog::sinks::sink>
make_redacting_sink(std::shared_ptr<spdlog::sinks::sink> target) {
    return std::make_shared<RedactingSink>(std::move(target));
}

std::shared_ptr<spdlog::logger> make_logger(const LogSettings& settings,
                                            std::shared_ptr<spdlog::sinks::sink> target) {
    auto level = parse_level(settings.level);
    target->set_formatter(make_log_formatter(settings.format, settings.journal));
    target->set_level(spdlog::level::trace);
    auto sink = make_redacting_sink(std::move(target));
    auto logger = std::make_shared<spdlog::logger>("lethe", std::move(sink));
    logger->set_level(level);
    // Warnings and errors reach the journal before a crash can lose them.
    logger->flush_on(spdlog::level::warn);
    return logger;
}

void setup_logging(const std::string& level, const std::string& format) {
    LogSettings settings;
    settings.level = level;
    settings.format = parse_log_format(format);
    settings.journal = stderr_is_journal();
    spdlog::set_default_logger(
        make_logger(settings, std::make_shared<spdlog::sinks::stderr_sink_mt>()));
}

} // namespace lethe::cli
