#include "cli/arguments.hpp"

#include "util/error.hpp"

namespace lethe::cli {
namespace {

// Far above any identifier (validation allows 150 bytes), far below trouble: `lethe enqueue -`
// fed from /dev/zero stops here instead of growing without bound.
constexpr std::size_t k_max_identifier_line_bytes = 64 * 1024;

} // namespace

std::string identifier_argument(const std::string& arg, std::istream& in) {
    if (arg != "-") {
        return arg;
    }
    std::string line;
    for (int c = in.get(); c != std::istream::traits_type::eof() && c != '\n'; c = in.get()) {
        if (line.size() == k_max_identifier_line_bytes) {
            throw InputError("stdin: the first line is longer than 64 KiB; expected one "
                             "identifier");
        }
        line.push_back(static_cast<char>(c));
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) {
        line.pop_back();
    }
    return line;
}

} // namespace lethe::cli
