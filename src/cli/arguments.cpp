#include "cli/arguments.hpp"

#include "util/error.hpp"

#include <charconv>

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

namespace lethe::cli {

CLI::Validator whole_number(std::int64_t min, std::int64_t max) {
    const std::string range = std::to_string(min) + " to " + std::to_string(max);
    return CLI::Validator(
        [min, max, range](std::string& text) -> std::string {
            const std::string expected = "expected a whole number from " + range;
            std::int64_t value = 0;
            const char* end = text.data() + text.size();
            auto [ptr, ec] = std::from_chars(text.data(), end, value);
            if (text.empty() || text.front() == '+' || ptr != end ||
                (ec != std::errc{} && ec != std::errc::result_out_of_range)) {
                return "'" + text + "' is not a whole number: " + expected;
            }
            if (ec == std::errc::result_out_of_range || value < min || value > max) {
                return text + " is out of range: " + expected;
            }
            text = std::to_string(value);
            return std::string();
        },
        "INT " + range);
}

} // namespace lethe::cli
