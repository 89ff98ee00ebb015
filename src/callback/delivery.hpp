#pragma once

#include "net/http.hpp"
#include "store/callback_outbox.hpp"
#include "store/request_views.hpp"
#include "util/clock.hpp"
#include "util/random.hpp"

#include <cstdint>
#include <string>
#include <vector>

// Completion callbacks (docs/intake.md, "Callbacks"): each event of the outbox is POSTed to its
// sender's callback_url, signed with the sender's secret, until a 2xx or the retry window ends.
namespace lethe::callback {

// Header naming the event, the receiver's idempotency key (also in the body).
inline constexpr const char* k_event_id_header = "X-Lethe-Event-Id";

// Where one sender's callbacks go.
struct CallbackTarget {
    std::string sender;
    std::string url;    // https://, or http:// to loopback (checked by the config reader)
    std::string secret; // the sender's current secret: signs every callback
    TimeMs retry_ms = 72LL * 3'600'000; // callback_retry_hours
};

// Backoff between attempts: base * 2^(attempt-1), at most max, with equal jitter (half fixed,
// half random) so that receivers coming back are not hit by every sender at once.
struct RetryPolicy {
    TimeMs base_ms = 10'000;
    TimeMs max_ms = 3'600'000;
    TimeMs lease_ms = 60'000; // an attempt in progress; a dead process's lease expires
};

// The delay before attempt `attempts + 1` after `attempts` failed ones.
TimeMs backoff_ms(const RetryPolicy& policy, std::int64_t attempts, Random& random);

// The JSON body of an event: event_id, type ("request.done" / ".dead" / ".cancelled"),
// occurred_at, sender, then the request as a status query shows it, in the state it reached.
std::string event_body(const store::CallbackEvent& event, const store::RequestView& view);

// One pass over the due events of the configured targets.
class CallbackDelivery {
public:
    CallbackDelivery(store::Database& db, net::HttpClient& http, const Clock& clock, Random& random,
                     std::vector<CallbackTarget> targets, RetryPolicy policy = {});
    // Sends every event due now, one at a time (in order per request), each attempt recorded
    // with its outcome. Returns the number of attempts. Throws SQLite::Exception when the
    // database fails (the event stays pending, its lease expires).
    int deliver_due();
    // When the next pending event is due (nullopt: none).
    std::optional<TimeMs> next_due();
    const std::vector<std::string>& senders() const { return m_senders; }
    // Replaces the targets (SIGHUP: rotated secrets sign the next attempt onward).
    void set_targets(std::vector<CallbackTarget> targets);

private:
    void attempt(const store::CallbackEvent& event, const CallbackTarget& target);
    const CallbackTarget* target_of(const std::string& sender) const;

    store::Database& m_db;
    store::CallbackOutbox m_outbox;
    net::HttpClient& m_http;
    const Clock& m_clock;
    Random& m_random;
    std::vector<CallbackTarget> m_targets;
    std::vector<std::string> m_senders;
    RetryPolicy m_policy;
};

} // namespace lethe::callback
