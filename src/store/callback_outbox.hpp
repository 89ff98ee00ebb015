#pragma once

#include "store/database.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The durable outbox of completion callbacks (migration 0008; docs/intake.md, "Callbacks"). Its
// rows are written by a trigger in the transaction that finishes a request; this is how the
// delivery loop and `lethe callbacks` read and update them.
namespace lethe::store {

// Where a callback event stands.
enum class CallbackStatus { pending, delivered, failed };

// The SQL text form of a status.
std::string_view to_text(CallbackStatus s);

// One callback event.
struct CallbackEvent {
    std::int64_t id = 0; // delivery order within a request
    std::string event_id;
    std::int64_t request_row = 0;
    std::string request_id;
    std::string subject_digest; // for the audit entries, never sent
    std::string sender;
    std::string state; // the request state it reports: done, dead or cancelled
    TimeMs occurred_at = 0;
    CallbackStatus status = CallbackStatus::pending;
    std::int64_t attempts = 0;
    TimeMs retry_since = 0;
    TimeMs next_attempt_at = 0;
    std::optional<std::string> last_error;
    std::optional<std::string> body; // fixed at the first attempt
};

// What one delivery attempt met: lethe's own words only, never the receiver's body.
struct CallbackAttempt {
    long status = 0;   // HTTP status; 0 when no response came
    std::string error; // "HTTP 500", "timeout", "connection failed", ...; empty when delivered
    TimeMs latency_ms = 0;
};

// Reads and changes callback events; each change is one transaction with its audit entry
// (callback.delivered, callback.retry, callback.failed, callback.requeued).
class CallbackOutbox {
public:
    CallbackOutbox(Database& db, const Clock& clock);

    // Leases the next due pending event of one of `senders` for `lease_ms`: the oldest due whose
    // request has no earlier pending event (in order per request). nullopt when none is due.
    // Throws SQLite::Exception (busy included).
    std::optional<CallbackEvent> claim(const std::vector<std::string>& senders, TimeMs lease_ms);
    // Stores the body to send, once: a retry sends the same bytes. Returns the stored body.
    std::string fix_body(const CallbackEvent& event, const std::string& body);
    // The attempt was answered 2xx: delivered.
    void delivered(const CallbackEvent& event, const CallbackAttempt& attempt);
    // The attempt failed; it is tried again at `next_attempt_at`.
    void retry_at(const CallbackEvent& event, const CallbackAttempt& attempt,
                  TimeMs next_attempt_at);
    // The attempt failed and the retry window is over: failed (`lethe callbacks --retry`).
    void failed(const CallbackEvent& event, const CallbackAttempt& attempt);
    // The earliest next attempt of a pending event of `senders`; nullopt when there is none.
    std::optional<TimeMs> next_due(const std::vector<std::string>& senders);
    // Pending and failed events, in id order.
    std::vector<CallbackEvent> undelivered();
    // Failed events become pending again with a fresh retry window, and pending ones are due at
    // once; each requeued failed event gets a callback.requeued entry naming `actor`. Returns
    // how many events are now due.
    std::int64_t requeue(const std::string& actor);

private:
    void finish_attempt(const CallbackEvent& event, const CallbackAttempt& attempt,
                        CallbackStatus status, std::optional<TimeMs> next_attempt_at);

    Database& m_db;
    const Clock& m_clock;
};

} // namespace lethe::store
