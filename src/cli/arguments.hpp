#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <istream>
#include <string>

namespace lethe::cli {

// An identifier given on the command line, or, when it is "-", the first line of `in` without its
// line end: so that a person's e-mail stays out of `ps` and the shell history. Throws InputError
// when that line is longer than 64 KiB.
std::string identifier_argument(const std::string& arg, std::istream& in);

// A transform for a numeric option: a whole decimal number from `min` to `max`, or a usage error
// saying the range. Unlike CLI11's own conversion, a number beyond the range is refused, never
// clamped (99999999999999999999 is not read as INT64_MAX), and leading zeros are decimal ("010"
// is 10, not octal 8); the option then receives the number in plain decimal.
CLI::Validator whole_number(std::int64_t min, std::int64_t max);

} // namespace lethe::cli
