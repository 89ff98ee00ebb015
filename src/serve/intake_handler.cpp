#include "serve/intake_handler.hpp"

#include "serve/request_body.hpp"
#include "util/json_writer.hpp"

#include <spdlog/spdlog.h>

namespace lethe::serve {
namespace {

// Enough of a digest to follow one subject through the logs and the audit log.
std::string short_digest(const std::string& digest) {
    return digest.substr(0, 16);
}

Reply admitted_reply(const Admitted& a) {
    JsonWriter j;
    switch (a.outcome) {
    case Admitted::Outcome::created:
    case Admitted::Outcome::linked:
        j.field("status", "created").field("request_id", a.request_id);
        if (!a.linked_to.empty()) {
            j.field("linked_to", a.linked_to);
        }
        return {201, j.str()};
    case Admitted::Outcome::known:
        return {200, j.field("status", "known").field("request_id", a.request_id).str()};
    case Admitted::Outcome::conflict:
        return {409, j.field("status", "conflict")
                         .field("request_id", a.request_id)
                         .field("reason", a.reason)
                         .str()};
    case Admitted::Outcome::invalid:
        break;
    }
    return json_reply(400, "rejected", a.reason);
}

const char* outcome_name(Admitted::Outcome o) {
    switch (o) {
    case Admitted::Outcome::created:
        return "created";
    case Admitted::Outcome::linked:
        return "created (linked)";
    case Admitted::Outcome::known:
        return "already known";
    case Admitted::Outcome::conflict:
        return "conflict";
    case Admitted::Outcome::invalid:
        return "rejected";
    }
    return "?";
}

} // namespace

std::vector<std::string> KeyRing::keys() const {
    std::lock_guard lock(m_mutex);
    return m_keys;
}

void KeyRing::replace(std::vector<std::string> keys) {
    std::lock_guard lock(m_mutex);
    m_keys = std::move(keys);
}

Reply json_reply(int status, std::string_view state, std::string_view reason) {
    JsonWriter j;
    j.field("status", state);
    if (!reason.empty()) {
        j.field("reason", reason);
    }
    return {status, j.str()};
}

IntakeHandler::IntakeHandler(const KeyRing& keys, RequestSink& sink, const Clock& clock,
                             std::int64_t max_body_bytes)
    : m_keys(keys), m_sink(sink), m_clock(clock), m_max_body_bytes(max_body_bytes) {
}

Reply IntakeHandler::handle(const PresentedSignature& signature, std::string_view body) const {
    if (static_cast<std::int64_t>(body.size()) > m_max_body_bytes) {
        return json_reply(413, "too_large",
                          "body is larger than " + std::to_string(m_max_body_bytes) + " bytes");
    }
    if (auto problem = check_signature(m_keys.keys(), signature, body, m_clock.now_ms())) {
        spdlog::warn("intake: refused a request: {}", *problem);
        return json_reply(401, "unauthorized", *problem);
    }
    return admit(body);
}

Reply IntakeHandler::admit(std::string_view body) const {
    BodyParse parsed = parse_request_body(body);
    if (!parsed.request) {
        spdlog::warn("intake: rejected a signed request: {}", parsed.reason);
        return json_reply(400, "rejected", parsed.reason);
    }
    Admitted a;
    try {
        a = m_sink.admit(*parsed.request);
    } catch (const std::exception& e) {
        // Nothing was committed: the sender must retry, and a 5xx tells it to.
        spdlog::error("intake: could not store a request: {}", e.what());
        return json_reply(503, "unavailable", "the request could not be stored; retry later");
    }
    if (a.outcome == Admitted::Outcome::invalid) {
        spdlog::warn("intake: rejected a signed request: {}", a.reason);
    } else {
        spdlog::info("intake: request {} (subject {}): {}", a.request_id,
                     short_digest(a.subject_digest), outcome_name(a.outcome));
    }
    return admitted_reply(a);
}

} // namespace lethe::serve
