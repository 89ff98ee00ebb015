#include "intake/validate.hpp"

#include "util/strings.hpp"
#include "util/time.hpp"

// Reasons never quote a field's value: the identifier is personal data, and a misplaced column
// can put personal data in any other field too. Only a parsed date is echoed back, because a
// value that parses as a date cannot be a person's e-mail or id. The first failed rule is the
// one reported.

namespace lethe::intake {
namespace {

// Why `s` is not an acceptable e-mail address, as a phrase following "it"; empty when it is.
std::string email_problem(std::string_view s) {
    std::size_t at = s.find('@');
    if (at == std::string_view::npos) {
        return "has no '@'";
    }
    if (s.find('@', at + 1) != std::string_view::npos) {
        return "has more than one '@'";
    }
    if (s.find(' ') != std::string_view::npos) {
        return "contains a space";
    }
    std::string_view local = s.substr(0, at);
    std::string_view domain = s.substr(at + 1);
    if (local.empty()) {
        return "has nothing before the '@'";
    }
    if (local.size() > k_max_email_local_bytes) {
        return "has more than " + std::to_string(k_max_email_local_bytes) + " bytes before the '@'";
    }
    if (domain.empty()) {
        return "has nothing after the '@'";
    }
    if (domain.front() == '.' || domain.back() == '.') {
        return "has a domain that starts or ends with a dot";
    }
    if (domain.find('.') == std::string_view::npos) {
        return "has a domain without a dot";
    }
    if (s.find("..") != std::string_view::npos) {
        return "has two dots in a row";
    }
    return {};
}

bool is_ascii_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

constexpr std::string_view k_cio_prefix = "cio_";

// Why `s` is not an acceptable cio_id, as a phrase following "it"; empty when it is.
std::string cio_id_problem(std::string_view s) {
    if (s.substr(0, k_cio_prefix.size()) != k_cio_prefix) {
        return "does not start with \"cio_\"";
    }
    std::string_view rest = s.substr(k_cio_prefix.size());
    if (rest.empty()) {
        return "has nothing after \"cio_\"";
    }
    for (char c : rest) {
        if (!is_ascii_alnum(c)) {
            return "has characters other than letters and digits after \"cio_\"";
        }
    }
    return {};
}

Validation reject(std::string reason) {
    Validation v;
    v.reason = std::move(reason);
    return v;
}

// Shared checks for free-text fields; `name` is the field's name for the message.
std::string text_problem(std::string_view name, std::string_view value, std::size_t max_bytes) {
    if (value.size() > max_bytes) {
        return std::string(name) + " is " + std::to_string(value.size()) + " bytes long; at most " +
               std::to_string(max_bytes) + " are allowed";
    }
    if (!is_valid_utf8(value)) {
        return std::string(name) + " is not valid UTF-8";
    }
    if (has_control_chars(value)) {
        return std::string(name) + " contains a control character";
    }
    return {};
}

} // namespace

std::string_view to_string(IdType t) {
    switch (t) {
    case IdType::id:
        return "id";
    case IdType::email:
        return "email";
    case IdType::cio_id:
        return "cio_id";
    }
    return "id";
}

std::optional<IdType> parse_id_type(std::string_view s) {
    if (s == "id") {
        return IdType::id;
    }
    if (s == "email") {
        return IdType::email;
    }
    if (s == "cio_id") {
        return IdType::cio_id;
    }
    return std::nullopt;
}

IdType infer_id_type(std::string_view identifier) {
    if (identifier.substr(0, k_cio_prefix.size()) == k_cio_prefix) {
        return IdType::cio_id;
    }
    if (identifier.find('@') != std::string_view::npos) {
        return IdType::email;
    }
    return IdType::id;
}

Validation validate_request(const RawRequest& raw, TimeMs now) {
    ValidRequest out;

    std::string_view identifier = trim(raw.identifier);
    if (identifier.empty()) {
        return reject("identifier is missing or empty");
    }
    if (std::string p = text_problem("identifier", identifier, k_max_identifier_bytes);
        !p.empty()) {
        return reject(std::move(p));
    }
    out.identifier = identifier;

    std::string_view type_text = trim(raw.id_type);
    const bool typed = !type_text.empty();
    if (typed) {
        std::optional<IdType> t = parse_id_type(to_lower(type_text));
        if (!t) {
            return reject("id_type must be id, email or cio_id");
        }
        out.id_type = *t;
    } else {
        out.id_type = infer_id_type(identifier);
    }

    if (out.id_type == IdType::email) {
        if (std::string p = email_problem(identifier); !p.empty()) {
            if (typed) {
                return reject("identifier is typed email but is not an e-mail address: it " + p);
            }
            return reject("identifier contains '@' so it is read as an e-mail address, but it " +
                          p + "; set id_type to id if it is a plain id");
        }
    } else if (out.id_type == IdType::cio_id) {
        if (std::string p = cio_id_problem(identifier); !p.empty()) {
            if (typed) {
                return reject("identifier is typed cio_id but it " + p);
            }
            return reject("identifier starts with \"cio_\" so it is read as a cio_id, but it " + p +
                          "; set id_type to id if it is a plain id");
        }
    }

    std::string_view request_id = trim(raw.request_id);
    if (!request_id.empty()) {
        if (std::string p = text_problem("request_id", request_id, k_max_request_id_bytes);
            !p.empty()) {
            return reject(std::move(p));
        }
        out.request_id = request_id;
    }

    std::string_view received_at = trim(raw.received_at);
    if (!received_at.empty()) {
        std::optional<TimeMs> t = parse_iso8601(received_at);
        if (!t) {
            return reject("received_at is not an ISO 8601 date or time (for example 2024-05-01 "
                          "or 2024-05-01T09:30:00Z)");
        }
        if (*t < k_earliest_received_at_ms) {
            return reject("received_at " + format_iso8601(*t) + " is before 2000-01-01");
        }
        if (*t > now + k_clock_skew_tolerance_ms) {
            return reject("received_at " + format_iso8601(*t) + " is in the future");
        }
        out.received_at = t;
    }

    Validation v;
    v.request = std::move(out);
    return v;
}

} // namespace lethe::intake
