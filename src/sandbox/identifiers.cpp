#include "sandbox/identifiers.hpp"

#include "util/strings.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace lethe::sandbox {
namespace {

constexpr std::string_view k_cio_prefix = "cio_";

constexpr std::array<std::pair<IdKind, std::string_view>, 4> k_kind_names = {{
    {IdKind::id, "id"},
    {IdKind::email, "email"},
    {IdKind::phone, "phone"},
    {IdKind::cio_id, "cio_id"},
}};

bool is_space_or_control(char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
}

} // namespace

const char* kind_name(IdKind kind) {
    for (const auto& [k, name] : k_kind_names) {
        if (k == kind) {
            return name.data();
        }
    }
    return "id";
}

std::optional<IdKind> parse_kind(std::string_view name) {
    for (const auto& [k, n] : k_kind_names) {
        if (n == name) {
            return k;
        }
    }
    return std::nullopt;
}

const char* identify_by_name(IdentifyBy identify_by) {
    return identify_by == IdentifyBy::id ? "id" : "email_or_id";
}

std::optional<IdentifyBy> parse_identify_by(std::string_view name) {
    if (name == "email_or_id") {
        return IdentifyBy::email_or_id;
    }
    if (name == "id") {
        return IdentifyBy::id;
    }
    return std::nullopt;
}

bool looks_like_email(std::string_view value) {
    if (std::any_of(value.begin(), value.end(), is_space_or_control)) {
        return false;
    }
    auto at = value.find('@');
    if (at == std::string_view::npos || at == 0 || value.find('@', at + 1) != value.npos) {
        return false;
    }
    std::string_view domain = value.substr(at + 1);
    auto dot = domain.find('.');
    return dot != std::string_view::npos && dot != 0 && domain.back() != '.';
}

bool is_e164(std::string_view value) {
    if (value.size() < 3 || value.size() > 16 || value[0] != '+' || value[1] < '1' ||
        value[1] > '9') {
        return false;
    }
    return std::all_of(value.begin() + 1, value.end(), [](char c) { return c >= '0' && c <= '9'; });
}

TypedId read_path_value(std::string_view value, const IdentifierRules& rules) {
    if (value.substr(0, k_cio_prefix.size()) == k_cio_prefix) {
        return {IdKind::cio_id, std::string(value.substr(k_cio_prefix.size()))};
    }
    if (rules.identify_by == IdentifyBy::email_or_id && looks_like_email(value)) {
        return {IdKind::email, std::string(value)};
    }
    return {IdKind::id, std::string(value)};
}

bool is_identifier(IdKind kind, const IdentifierRules& rules) {
    switch (kind) {
    case IdKind::id:
    case IdKind::cio_id:
        return true;
    case IdKind::email:
        return rules.identify_by == IdentifyBy::email_or_id;
    case IdKind::phone:
        return rules.phone_identifier;
    }
    return false;
}

std::string match_form(IdKind kind, std::string_view value) {
    return kind == IdKind::email ? to_lower(value) : std::string(value);
}

} // namespace lethe::sandbox
