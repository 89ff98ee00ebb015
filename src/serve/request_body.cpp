#include "serve/request_body.hpp"

#include "util/strings.hpp"

#include <array>
#include <nlohmann/json.hpp>

namespace lethe::serve {
namespace {

constexpr std::size_t k_max_echoed_name = 32;

// " 'name'" for a reason when the member name is plainly a field name and not data; else "".
std::string quoted_if_plain(std::string_view name) {
    bool plain = !name.empty() && name.size() <= k_max_echoed_name;
    for (char c : name) {
        plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '_' || c == '-');
    }
    return plain ? " '" + std::string(name) + "'" : "";
}

// A SAX consumer that accepts exactly one flat object of known string members and stops at the
// first thing it does not accept, so deep nesting or huge arrays cost nothing.
class BodyReader {
public:
    using json = nlohmann::json;

    bool null() { return scalar(false, nullptr); }
    bool boolean(bool) { return scalar(true, nullptr); }
    bool number_integer(json::number_integer_t) { return scalar(true, nullptr); }
    bool number_unsigned(json::number_unsigned_t) { return scalar(true, nullptr); }
    bool number_float(json::number_float_t, const json::string_t&) { return scalar(true, nullptr); }
    bool string(json::string_t& value) { return scalar(false, &value); }
    bool binary(json::binary_t&) { return scalar(true, nullptr); }
    bool start_object(std::size_t) {
        if (m_depth == 0) {
            m_depth = 1;
            return true;
        }
        return wrong_type();
    }
    bool end_object() {
        m_current = nullptr;
        return true;
    }
    bool start_array(std::size_t) { return m_depth == 0 ? not_an_object() : wrong_type(); }
    bool end_array() { return true; }
    bool key(json::string_t& name) {
        for (std::size_t i = 0; i < k_fields.size(); ++i) {
            if (name == k_fields[i]) {
                if (m_seen[i]) {
                    return fail("field '" + name + "' appears twice");
                }
                m_seen[i] = true;
                m_current_name = k_fields[i];
                m_current = field(i);
                return true;
            }
        }
        return fail("unknown field" + quoted_if_plain(name) +
                    " (accepted: request_id, identifier, id_type, received_at, workspaces)");
    }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) {
        // The library's message quotes the last token read, which may be personal data.
        if (m_reason.empty()) {
            m_reason = "body is not valid JSON (error at byte " + std::to_string(position) + ")";
        }
        return false;
    }

    const std::string& reason() const { return m_reason; }
    intake::RawRequest& request() { return m_request; }

    static constexpr std::array<const char*, 5> k_fields = {"request_id", "identifier", "id_type",
                                                            "received_at", "workspaces"};

private:
    std::string* field(std::size_t i) {
        std::array<std::string*, 5> slots = {&m_request.request_id, &m_request.identifier,
                                             &m_request.id_type, &m_request.received_at,
                                             &m_request.workspaces};
        return slots[i];
    }
    // A scalar value: a string fills the current member; null leaves it absent; `other` is any
    // other type.
    bool scalar(bool other, json::string_t* value) {
        if (m_depth == 0) {
            return not_an_object();
        }
        if (other) {
            return wrong_type();
        }
        if (value != nullptr) {
            *m_current = std::move(*value);
        }
        return true;
    }
    bool wrong_type() {
        return fail("field '" + std::string(m_current_name) + "' must be a string");
    }
    bool not_an_object() { return fail("body must be a JSON object"); }
    bool fail(std::string reason) {
        m_reason = std::move(reason);
        return false;
    }

    int m_depth = 0;
    std::string* m_current = nullptr;
    std::string_view m_current_name;
    std::array<bool, 5> m_seen{};
    intake::RawRequest m_request;
    std::string m_reason;
};

} // namespace

BodyParse parse_request_body(std::string_view body) {
    BodyParse out;
    if (trim(body).empty()) {
        out.reason = "body is empty; expected a JSON object";
        return out;
    }
    BodyReader reader;
    if (!nlohmann::json::sax_parse(body.begin(), body.end(), &reader)) {
        out.reason = reader.reason().empty() ? "body is not valid JSON" : reader.reason();
        return out;
    }
    if (trim(reader.request().request_id).empty()) {
        out.reason = "request_id is missing or empty (it is the idempotency key)";
        return out;
    }
    out.request = std::move(reader.request());
    return out;
}

} // namespace lethe::serve
