#include "cli/arguments.hpp"

namespace lethe::cli {

std::string identifier_argument(const std::string& arg, std::istream& in) {
    if (arg != "-") {
        return arg;
    }
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) {
        line.pop_back();
    }
    return line;
}

} // namespace lethe::cli
