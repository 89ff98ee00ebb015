#pragma once

#include "intake/validate.hpp"
#include "serve/replay_guard.hpp"
#include "serve/senders.hpp"
#include "serve/signature.hpp"
#include "store/request_views.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace lethe::serve {

// What admitting one request did.
struct Admitted {
    enum class Outcome { created, linked, known, conflict, invalid };
    Outcome outcome = Outcome::invalid;
    std::string reason;         // invalid or conflict: why (never the identifier)
    std::string request_id;     // the stored request_id (set unless invalid)
    std::string linked_to;      // linked: the active request for the same subject, when it is
                                // the same sender's (another's is not named)
    std::string subject_digest; // for the log (set unless invalid)
};

// Where accepted requests go: the same validation and admission as CSV import.
class RequestSink {
public:
    virtual ~RequestSink() = default;
    // Validates and stores one request of `sender` with its audit entry, committed before it
    // returns. Throws (SQLite::Exception, lethe::Error) when the database cannot take it.
    virtual Admitted admit(const intake::RawRequest& raw, const SenderIdentity& sender) = 0;
};

// Where status queries read requests.
class RequestReader {
public:
    virtual ~RequestReader() = default;
    // The request `request_id` when `sender` submitted it, else nullopt (unknown and another's
    // alike). Throws SQLite::Exception when the database fails.
    virtual std::optional<store::RequestView> find(std::string_view sender,
                                                   std::string_view request_id) = 0;
};

// An HTTP answer: status and JSON body.
struct Reply {
    int status = 500;
    std::string body;
};

// A JSON reply {"status": state, "reason": reason} (reason omitted when empty).
Reply json_reply(int status, std::string_view state, std::string_view reason = {});

// The intake's requests without sockets. Logs each outcome by sender, request_id and subject
// digest only.
class IntakeHandler {
public:
    IntakeHandler(const SenderRing& senders, RequestSink& sink, RequestReader& reader,
                  const Clock& clock, std::int64_t max_body_bytes);
    // POST /v1/erasure-requests: size limit (413), signature (401), scope "submit" (403), body
    // (400), then admission: 201 created or linked, 200 known, 409 conflict, 400 invalid, 503 when
    // the database fails. Never throws.
    Reply handle(const PresentedSignature& signature, std::string_view body) const;
    // GET `path` = /v1/erasure-requests/{request_id} (as sent, percent-encoded; `request_id` is
    // its decoded last segment, nullopt when that is not valid percent-encoding): signature over
    // "GET " + path (401), scope "read" (403), not a replay (401; 503 when too many queries are
    // inside the window to tell), then 200 with the request, or 404 for one the sender cannot
    // see, unknown or another's alike; 503 when the database fails. Never throws.
    Reply status(const PresentedSignature& signature, std::string_view path,
                 const std::optional<std::string>& request_id) const;

private:
    Reply admit(std::string_view body, const SenderIdentity& sender) const;

    const SenderRing& m_senders;
    RequestSink& m_sink;
    RequestReader& m_reader;
    const Clock& m_clock;
    std::int64_t m_max_body_bytes;
    // Started with the handler: queries signed before it are refused.
    mutable ReplayGuard m_replays;
};

} // namespace lethe::serve
