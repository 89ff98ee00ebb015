#pragma once

#include <istream>
#include <string>

namespace lethe::cli {

// An identifier given on the command line, or, when it is "-", the first line of `in` without its
// line end: so that a person's e-mail stays out of `ps` and the shell history.
std::string identifier_argument(const std::string& arg, std::istream& in);

} // namespace lethe::cli
