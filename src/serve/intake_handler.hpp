#pragma once

#include "intake/validate.hpp"
#include "serve/signature.hpp"
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
    std::string linked_to;      // linked: the active request for the same subject
    std::string subject_digest; // for the log (set unless invalid)
};

// Where accepted requests go: the same validation and admission as CSV import.
class RequestSink {
public:
    virtual ~RequestSink() = default;
    // Validates and stores one request with its audit entry, committed before it returns.
    // Throws (SQLite::Exception, lethe::Error) when the database cannot take it.
    virtual Admitted admit(const intake::RawRequest& raw) = 0;
};

// The accepted intake secrets; replaced on SIGHUP while requests are being checked.
class KeyRing {
public:
    explicit KeyRing(std::vector<std::string> keys) : m_keys(std::move(keys)) {}
    // A copy of the current secrets (current first).
    std::vector<std::string> keys() const;
    // Installs new secrets for every later request.
    void replace(std::vector<std::string> keys);

private:
    mutable std::mutex m_mutex;
    std::vector<std::string> m_keys;
};

// An HTTP answer: status and JSON body.
struct Reply {
    int status = 500;
    std::string body;
};

// A JSON reply {"status": state, "reason": reason} (reason omitted when empty).
Reply json_reply(int status, std::string_view state, std::string_view reason = {});

// POST /v1/erasure-requests without sockets: size limit (413), signature (401), body (400),
// then admission: 201 created or linked, 200 known, 409 conflict, 400 invalid, 503 when the
// database fails. Logs each outcome by request_id and subject digest only.
class IntakeHandler {
public:
    IntakeHandler(const KeyRing& keys, RequestSink& sink, const Clock& clock,
                  std::int64_t max_body_bytes);
    // Answers one request; never throws.
    Reply handle(const PresentedSignature& signature, std::string_view body) const;

private:
    Reply admit(std::string_view body) const;

    const KeyRing& m_keys;
    RequestSink& m_sink;
    const Clock& m_clock;
    std::int64_t m_max_body_bytes;
};

} // namespace lethe::serve
