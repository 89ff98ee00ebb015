#include "net/http.hpp"

#include "util/strings.hpp"

namespace lethe::net {

std::optional<std::string> HttpResponse::header(std::string_view lower_name) const {
    // Callers pass lower-case names, but lower-casing again costs nothing and spares a subtle
    // miss when someone writes "Retry-After".
    const std::string wanted = to_lower(lower_name);
    for (const auto& [name, value] : headers) {
        if (name == wanted) {
            return value;
        }
    }
    return std::nullopt;
}

} // namespace lethe::net
