#include "sandbox/api_target.hpp"

#include "util/strings.hpp"

#include <vector>

namespace lethe::sandbox {
namespace {

constexpr std::string_view k_customers = "/api/v1/customers/";
constexpr std::string_view k_region = "/api/v1/accounts/region";

std::vector<std::string_view> split_segments(std::string_view path) {
    std::vector<std::string_view> out;
    while (true) {
        auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) {
            return out;
        }
        path.remove_prefix(slash + 1);
    }
}

CallKind customer_call(std::string_view method, const std::vector<std::string_view>& segments) {
    if (segments.size() == 1) {
        if (method == "PUT") {
            return CallKind::identify;
        }
        return method == "DELETE" ? CallKind::destroy : CallKind::unknown;
    }
    if (segments.size() == 2 && method == "POST") {
        if (segments[1] == "suppress") {
            return CallKind::suppress;
        }
        return segments[1] == "unsuppress" ? CallKind::unsuppress : CallKind::unknown;
    }
    return CallKind::unknown;
}

} // namespace

std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size()) {
            return std::nullopt;
        }
        int hi = hex_digit_value(text[i + 1]);
        int lo = hex_digit_value(text[i + 2]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

ApiTarget parse_api_target(std::string_view method, std::string_view raw_target) {
    std::string_view path = raw_target.substr(0, raw_target.find('?'));
    ApiTarget target;
    if (path == k_region) {
        target.call = method == "GET" ? CallKind::region : CallKind::unknown;
        return target;
    }
    if (path.substr(0, k_customers.size()) != k_customers) {
        return target;
    }
    auto segments = split_segments(path.substr(k_customers.size()));
    target.call = customer_call(method, segments);
    if (target.call == CallKind::unknown) {
        return target;
    }
    auto id = percent_decode(segments[0]);
    if (!id) {
        target.error = "identifier is not valid percent-encoding";
    } else if (id->empty()) {
        target.error = "identifier is empty";
    } else if (id->size() > k_max_identifier_bytes) {
        target.error = "identifier is longer than 150 bytes";
    } else {
        target.identifier = std::move(id);
    }
    return target;
}

} // namespace lethe::sandbox
