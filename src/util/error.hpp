#pragma once

#include <stdexcept>
#include <string>

namespace lethe {

// Documented process exit codes (README "Exit codes"); app_main maps errors to them.
enum class ExitCode : int {
    ok = 0,
    failure = 1,      // an operation failed (e.g. unknown request id)
    usage = 2,        // bad command line
    config = 3,       // bad or missing configuration, key or secret
    bad_input = 4,    // rejected input (CSV rows, identifiers, dates); nothing was changed
    database = 5,     // database unusable: newer schema, corrupt, locked too long
    auth = 6,         // Customer.io refused the credentials (401/403); worker halted
    unreachable = 7,  // Customer.io could not be reached
    pin_mismatch = 8, // a workspace answers for another environment, region or host
};

// Base of every error lethe reports to the user; carries the exit code to use.
class Error : public std::runtime_error {
public:
    Error(ExitCode code, const std::string& message) : std::runtime_error(message), m_code(code) {}
    ExitCode code() const noexcept { return m_code; }

private:
    ExitCode m_code;
};

// A configuration problem: "FILE:LINE: key: reason".
class ConfigError : public Error {
public:
    explicit ConfigError(const std::string& message) : Error(ExitCode::config, message) {}
};

// A database that cannot be used as it is.
class DatabaseError : public Error {
public:
    explicit DatabaseError(const std::string& message) : Error(ExitCode::database, message) {}
};

// Input rejected before anything was changed.
class InputError : public Error {
public:
    explicit InputError(const std::string& message) : Error(ExitCode::bad_input, message) {}
};

} // namespace lethe
