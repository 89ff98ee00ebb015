#include "serve/intake_handler.hpp"

#include "serve/request_body.hpp"
#include "serve/request_view_json.hpp"
#include "util/json_writer.hpp"
#include "util/strings.hpp"

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

Reply json_reply(int status, std::string_view state, std::string_view reason) {
    JsonWriter j;
    j.field("status", state);
    if (!reason.empty()) {
        j.field("reason", reason);
    }
    return {status, j.str()};
}

IntakeHandler::IntakeHandler(const SenderRing& senders, RequestSink& sink, RequestReader& reader,
                             const Clock& clock, std::int64_t max_body_bytes)
    : m_senders(senders), m_sink(sink), m_reader(reader), m_clock(clock),
      m_max_body_bytes(max_body_bytes), m_replays(clock.now_ms()) {
}

namespace {

// 403: the sender is known (its signature matched) but may not do this.
Reply forbidden(const SenderIdentity& sender, const char* scope) {
    spdlog::warn("intake: sender {} lacks the scope \"{}\"", sender.name, scope);
    return json_reply(403, "forbidden",
                      std::string("this sender does not have the scope \"") + scope + "\"");
}

// The refusal of a query that is not fresh; nullopt for a fresh one. `signature` has been
// checked (identify succeeded), so its timestamp and MAC parse.
std::optional<Reply> replay_refusal(ReplayGuard& replays, const PresentedSignature& signature,
                                    TimeMs now) {
    const std::string mac = presented_mac(signature, now).mac;
    switch (replays.admit(*parse_int64(*signature.timestamp), mac, now)) {
    case ReplayVerdict::fresh:
        return std::nullopt;
    case ReplayVerdict::replayed:
        spdlog::warn("intake: refused a replayed status query");
        return json_reply(401, "unauthorized",
                          "this signature was answered already (a replayed query); sign the "
                          "query again in a later second");
    case ReplayVerdict::before_start:
        spdlog::warn("intake: refused a status query signed before this server started");
        return json_reply(401, "unauthorized",
                          std::string(k_timestamp_header) +
                              " is before this server started; sign the query again");
    case ReplayVerdict::full:
        spdlog::warn("intake: refused a status query: too many inside the replay window");
        return json_reply(503, "unavailable",
                          "too many status queries within the last " +
                              std::to_string(k_replay_window_seconds) + " s; retry shortly");
    }
    return std::nullopt;
}

} // namespace

Reply IntakeHandler::handle(const PresentedSignature& signature, std::string_view body) const {
    if (static_cast<std::int64_t>(body.size()) > m_max_body_bytes) {
        return json_reply(413, "too_large",
                          "body is larger than " + std::to_string(m_max_body_bytes) + " bytes");
    }
    Identified who = m_senders.identify(signature, body, m_clock.now_ms());
    if (!who.sender) {
        spdlog::warn("intake: refused a request: {}", who.reason);
        return json_reply(401, "unauthorized", who.reason);
    }
    if (!who.sender->has(config::SenderScope::submit)) {
        return forbidden(*who.sender, "submit");
    }
    return admit(body, *who.sender);
}

Reply IntakeHandler::status(const PresentedSignature& signature, std::string_view path,
                            const std::optional<std::string>& request_id) const {
    const TimeMs now = m_clock.now_ms();
    Identified who = m_senders.identify(signature, query_signed_body("GET", path), now);
    if (!who.sender) {
        spdlog::warn("intake: refused a status query: {}", who.reason);
        return json_reply(401, "unauthorized", who.reason);
    }
    if (!who.sender->has(config::SenderScope::read)) {
        return forbidden(*who.sender, "read");
    }
    if (auto refused = replay_refusal(m_replays, signature, now)) {
        return *refused;
    }
    std::optional<store::RequestView> view;
    try {
        // An undecodable id is looked up as "" (no request has it): the same path as any other
        // unknown id.
        view = m_reader.find(who.sender->name, request_id.value_or(""));
    } catch (const std::exception& e) {
        spdlog::error("intake: could not read a request: {}", e.what());
        return json_reply(503, "unavailable", "the database could not be read; retry later");
    }
    if (!view) {
        return json_reply(404, "not_found", "no such request");
    }
    JsonWriter j;
    j.field("status", "found");
    add_request_view(j, *view);
    return {200, j.str()};
}

Reply IntakeHandler::admit(std::string_view body, const SenderIdentity& sender) const {
    BodyParse parsed = parse_request_body(body);
    if (!parsed.request) {
        spdlog::warn("intake: rejected a signed request of sender {}: {}", sender.name,
                     parsed.reason);
        return json_reply(400, "rejected", parsed.reason);
    }
    Admitted a;
    try {
        a = m_sink.admit(*parsed.request, sender);
    } catch (const std::exception& e) {
        // Nothing was committed: the sender must retry, and a 5xx tells it to.
        spdlog::error("intake: could not store a request: {}", e.what());
        return json_reply(503, "unavailable", "the request could not be stored; retry later");
    }
    if (a.outcome == Admitted::Outcome::invalid) {
        spdlog::warn("intake: rejected a signed request of sender {}: {}", sender.name, a.reason);
    } else {
        spdlog::info("intake: request {} of sender {} (subject {}): {}", a.request_id, sender.name,
                     short_digest(a.subject_digest), outcome_name(a.outcome));
    }
    return admitted_reply(a);
}

} // namespace lethe::serve
