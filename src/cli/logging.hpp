#pragma once

#include "config/secrets.hpp"

#include <memory>
#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/sink.h>
#include <string>
#include <string_view>

namespace lethe::cli {

// How log lines are written.
enum class LogFormat {
    text, // "TIME lethe[PID] LEVEL: message"; under the journal "<N>LEVEL: message"
    json, // one object per line: {"ts","level","msg","logger"}
};

// What setup_logging installs.
struct LogSettings {
    std::string level = "info"; // trace, debug, info, warn, error, critical, off
    LogFormat format = LogFormat::text;
    bool journal = false; // stderr is the systemd journal: <N> prefixes, no time
};

// "text" or "json"; throws lethe::Error (usage) for anything else.
LogFormat parse_log_format(std::string_view name);

// True when $JOURNAL_STREAM names the device:inode of this process's stderr (sd_journal docs),
// so a unit's `lethe … 2>file` still gets plain lines.
bool stderr_is_journal();

// The sd-daemon.h priority of a level: 7 trace/debug, 6 info, 4 warn, 3 error, 2 critical.
int syslog_priority(spdlog::level::level_enum level);

// The level's name as lethe spells it: trace, debug, info, warn, error, critical.
std::string_view level_name(spdlog::level::level_enum level);

// A formatter for `format`, with "<N>" priority prefixes (and no timestamps in text) when
// `journal` is true.
std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format, bool journal);

// Wraps `target` so every registered secret (config::register_secret_for_redaction) in a message
// becomes "[redacted]" before it is formatted. A backstop only: secrets must never be logged.
std::shared_ptr<spdlog::sinks::sink>
make_redacting_sink(std::shared_ptr<spdlog::sinks::sink> target);

// A logger named "lethe" writing to `target` through the redacting sink, with the formatter and
// level of `settings`. Throws lethe::Error (usage) on an unknown level.
std::shared_ptr<spdlog::logger> make_logger(const LogSettings& settings,
                                            std::shared_ptr<spdlog::sinks::sink> target);

// Installs the default logger on stderr: `level` and `format` as given on the command line,
// journal mode when stderr_is_journal(). Throws lethe::Error (usage) on a bad level or format.
void setup_logging(const std::string& level, const std::string& format);

// Same as config::register_secret_for_redaction (resolve_secret already registers what it
// returns); here so code that only logs finds it.
inline void register_secret_for_redaction(std::string_view value) {
    config::register_secret_for_redaction(value);
}

} // namespace lethe::cli
