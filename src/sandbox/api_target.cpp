#include "sandbox/api_target.hpp"

#include "util/strings.hpp"

#include <vector>

namespace lethe::sandbox {
namespace {

constexpr std::string_view k_customers = "/api/v1/customers/";
constexpr std::string_view k_region = "/api/v1/accounts/region";
constexpr std::string_view k_entity = "/api/v2/entity";
constexpr std::string_view k_batch = "/api/v2/batch";
constexpr std::string_view k_app_customers = "/v1/customers";

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

// Decodes and checks a path identifier into `target`.
void set_identifier(ApiTarget& target, std::string_view encoded) {
    auto id = percent_decode(encoded);
    if (!id) {
        target.error = "identifier is not valid percent-encoding";
    } else if (id->empty()) {
        target.error = "identifier is empty";
    } else if (id->size() > k_max_identifier_bytes) {
        target.error = "identifier is longer than 150 bytes";
    } else {
        target.identifier = std::move(id);
    }
}

ApiTarget track_v1_target(std::string_view method, std::string_view path) {
    ApiTarget target;
    auto segments = split_segments(path.substr(k_customers.size()));
    target.call = customer_call(method, segments);
    if (target.call != CallKind::unknown) {
        set_identifier(target, segments[0]);
    }
    return target;
}

// GET /v1/customers?email=, POST /v1/customers (search), GET /v1/customers/{id}/attributes,
// POST /v1/customers/attributes.
ApiTarget app_target(std::string_view method, std::string_view path, std::string_view query) {
    ApiTarget target;
    target.api = Api::app;
    target.id_type = query_param(query, "id_type");
    if (path == k_app_customers) {
        if (method == "POST") {
            target.call = CallKind::search;
            return target;
        }
        if (method != "GET") {
            return target;
        }
        target.call = CallKind::find_by_email;
        target.identifier = query_param(query, "email");
        if (!target.identifier || target.identifier->empty()) {
            target.error = "email is required";
        }
        return target;
    }
    auto segments = split_segments(path.substr(k_app_customers.size() + 1));
    if (segments.size() == 1 && segments[0] == "attributes" && method == "POST") {
        target.call = CallKind::bulk_attributes;
    } else if (segments.size() == 2 && segments[1] == "attributes" && method == "GET") {
        target.call = CallKind::attributes;
        set_identifier(target, segments[0]);
    }
    return target;
}

} // namespace

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+' && plus_is_space) {
            out.push_back(' ');
            continue;
        }
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

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) {
            return eq == std::string_view::npos ? std::string()
                                                : percent_decode(pair.substr(eq + 1), true);
        }
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    }
    return std::nullopt;
}

ApiTarget parse_api_target(std::string_view method, std::string_view raw_target) {
    auto question = raw_target.find('?');
    std::string_view path = raw_target.substr(0, question);
    std::string_view query =
        question == std::string_view::npos ? std::string_view() : raw_target.substr(question + 1);
    ApiTarget target;
    if (path == k_region) {
        target.call = method == "GET" ? CallKind::region : CallKind::unknown;
    } else if (path == k_entity || path == k_batch) {
        target.api = Api::track_v2;
        if (method == "POST") {
            target.call = path == k_entity ? CallKind::entity : CallKind::batch;
        }
    } else if (path.substr(0, k_customers.size()) == k_customers) {
        target = track_v1_target(method, path);
    } else if (path == k_app_customers ||
               path.substr(0, k_app_customers.size() + 1) == std::string(k_app_customers) + "/") {
        target = app_target(method, path, query);
    }
    return target;
}

} // namespace lethe::sandbox
