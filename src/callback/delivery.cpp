#include "callback/delivery.hpp"

#include "serve/request_view_json.hpp"
#include "serve/signature.hpp"
#include "util/json_writer.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace lethe::callback {

TimeMs backoff_ms(const RetryPolicy& policy, std::int64_t attempts, Random& random) {
    TimeMs delay = policy.base_ms;
    for (std::int64_t i = 1; i < attempts && delay < policy.max_ms; ++i) {
        delay *= 2;
    }
    delay = std::min(delay, policy.max_ms);
    const TimeMs half = delay / 2;
    return half + static_cast<TimeMs>(random.uniform(static_cast<std::uint64_t>(delay - half)));
}

std::string event_body(const store::CallbackEvent& event, const store::RequestView& view) {
    store::RequestView as_reached = view;
    // The state the event reports, even if the request has moved on since (a dead request that
    // was retried): each event tells what happened then.
    as_reached.state = event.state;
    JsonWriter j;
    j.field("event_id", event.event_id)
        .field("type", "request." + event.state)
        .field("occurred_at", format_iso8601_ms(event.occurred_at))
        .field("sender", event.sender);
    serve::add_request_view(j, as_reached);
    return j.str();
}

CallbackDelivery::CallbackDelivery(store::Database& db, net::HttpClient& http, const Clock& clock,
                                   Random& random, std::vector<CallbackTarget> targets,
                                   RetryPolicy policy)
    : m_db(db), m_outbox(db, clock), m_http(http), m_clock(clock), m_random(random),
      m_policy(policy) {
    set_targets(std::move(targets));
}

void CallbackDelivery::set_targets(std::vector<CallbackTarget> targets) {
    m_targets = std::move(targets);
    m_senders.clear();
    for (const auto& t : m_targets) {
        m_senders.push_back(t.sender);
    }
}

const CallbackTarget* CallbackDelivery::target_of(const std::string& sender) const {
    for (const auto& t : m_targets) {
        if (t.sender == sender) {
            return &t;
        }
    }
    return nullptr;
}

int CallbackDelivery::deliver_due() {
    int attempts = 0;
    while (auto event = m_outbox.claim(m_senders, m_policy.lease_ms)) {
        attempt(*event, *target_of(event->sender)); // claim() picks only these senders
        ++attempts;
    }
    return attempts;
}

std::optional<TimeMs> CallbackDelivery::next_due() {
    return m_outbox.next_due(m_senders);
}

void CallbackDelivery::attempt(const store::CallbackEvent& event, const CallbackTarget& target) {
    std::string body;
    if (event.body) {
        body = *event.body;
    } else {
        auto view = store::request_view(m_db.db(), event.request_row);
        body = m_outbox.fix_body(event, view ? event_body(event, *view) : std::string("{}"));
    }
    const std::string ts = std::to_string(m_clock.now_ms() / 1000);
    net::HttpRequest req;
    req.method = "POST";
    req.url = target.url;
    req.headers = {{"Content-Type", "application/json"},
                   {serve::k_timestamp_header, ts},
                   {serve::k_signature_header, serve::sign_request(target.secret, ts, body)},
                   {k_event_id_header, event.event_id}};
    req.body = body;
    const net::HttpResponse res = m_http.perform(req);
    store::CallbackAttempt facts;
    facts.status = res.status;
    facts.latency_ms = res.latency_ms;
    if (res.status >= 200 && res.status < 300) {
        m_outbox.delivered(event, facts);
        spdlog::info("callback {} for request {} delivered to sender {}", event.event_id,
                     event.request_id, event.sender);
        return;
    }
    // Only lethe's words: a receiver's body may echo anything.
    facts.error = res.status != 0 ? "HTTP " + std::to_string(res.status) : res.transport_error;
    const TimeMs next = m_clock.now_ms() + backoff_ms(m_policy, event.attempts + 1, m_random);
    if (next > event.retry_since + target.retry_ms) {
        m_outbox.failed(event, facts);
        spdlog::error("callback {} for request {} to sender {} failed for good: {} (lethe "
                      "callbacks --retry sends it again)",
                      event.event_id, event.request_id, event.sender, facts.error);
        return;
    }
    m_outbox.retry_at(event, facts, next);
    spdlog::warn("callback {} for request {} to sender {}: {}; retry at {}", event.event_id,
                 event.request_id, event.sender, facts.error, format_iso8601_ms(next));
}

} // namespace lethe::callback
