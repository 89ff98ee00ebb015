#pragma once

// The typed request lifecycle (DESIGN.md "The request lifecycle"). A request is what the DPO
// sees; its unit of work is the request in one workspace (an *erasure*). Everything here is
// plain data and pure functions: the worker asks decide() what an API outcome means, and
// store/ applies the answer in one transaction. The text forms exist only for SQL and the audit
// log (to_text / parse_*), never for decisions.

#include "util/clock.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lethe::erasure {

// State of a request, aggregated over its erasures.
enum class RequestState {
    pending,   // some erasure is not finished
    done,      // every erasure is done
    dead,      // an erasure is dead (the reason names its workspace); `lethe retry` revives it
    cancelled, // cancelled before any erasure made progress
};

// State of one erasure (a request in one workspace). With an App API key the steps are
// resolve → suppress → destroy → verify; without one, suppress → destroy (unverified).
enum class ErasureState {
    pending,    // resolve next (suppress next when the workspace has no App API key)
    resolved,   // every profile the identifier refers to is known; suppress next
    suppressed, // suppress succeeded and is committed; destroy next
    erased,     // suppressed and destroyed; verify next (read back that nothing remains)
    done,       // erased, and verified gone (or, without an App API key, unverified)
    dead,       // failed for good (permanent error, attempts exhausted, still present)
    cancelled,  // the request was cancelled
};

// What an erasure does next.
enum class Step {
    resolve,  // App API: find every profile the identifier refers to
    suppress, // Track API: suppress each profile (by cio_id) and the identifier itself
    destroy,  // Track API: delete each profile
    verify,   // App API: the identifier finds nobody, and no erased profile remains
};

// How one call ended, as far as the lifecycle cares.
enum class Outcome {
    success,       // 2xx (a destroy's 404 too: the person is not there)
    retryable,     // network error, timeout, 408, 429, 5xx
    permanent,     // other 4xx: this erasure cannot succeed as it is
    auth,          // 401/403: the credentials are refused; not the erasure's fault
    halt,          // an environment problem (e.g. a redirect to a foreign host); not its fault
    rate_limited,  // 429: the workspace's limit, not the erasure's: retried, never charged
    still_present, // verify: a profile is still there
};

// What the worker must do after a decision, besides applying it.
enum class Halt {
    none,
    credentials, // Customer.io refused the credentials (exit 6)
    environment, // another environment problem (exit 1)
};

// Audit events of the lifecycle; their text is the audit log's `event`.
enum class Event {
    request_planned,    // a request of schema 1 got its erasures (the first run after an upgrade)
    erasure_planned,    // an active request got an erasure in a workspace it lacked
    call_resolve,       // each App API read that resolves the identifier
    call_suppress,      // each suppress call, with its status and outcome
    call_destroy,       // each destroy call
    call_verify,        // each App API read that verifies
    erasure_resolved,   // the profiles the identifier refers to are known (how many)
    erasure_suppressed, // suppress succeeded in a workspace
    erasure_erased,     // suppress and destroy succeeded: verification follows
    erasure_still_present, // verification found a profile: checked again, or erased again
    erasure_done,          // done in a workspace: verified gone, or unverified (no App API key)
    erasure_dead,          // the erasure in a workspace failed for good
    request_done,          // every erasure of the request is done
    request_dead,          // an erasure of the request is dead
};

// What happens to the lease after a decision.
enum class Lease {
    keep,              // the next step follows in the same claim
    release,           // finished or rescheduled: the attempt counts
    release_uncharged, // given back as it was: the attempt does not count
};

std::string_view to_text(RequestState s);
std::string_view to_text(ErasureState s);
std::string_view to_text(Step s);
std::string_view to_text(Outcome o);
std::string_view to_text(Event e);

// Parses the SQL/audit text form; nullopt for anything else.
std::optional<RequestState> parse_request_state(std::string_view text);
std::optional<ErasureState> parse_erasure_state(std::string_view text);

// Every value, for tables and exhaustive tests.
inline constexpr RequestState k_request_states[] = {RequestState::pending, RequestState::done,
                                                    RequestState::dead, RequestState::cancelled};
inline constexpr ErasureState k_erasure_states[] = {
    ErasureState::pending, ErasureState::resolved, ErasureState::suppressed, ErasureState::erased,
    ErasureState::done,    ErasureState::dead,     ErasureState::cancelled};
inline constexpr Outcome k_outcomes[] = {
    Outcome::success, Outcome::retryable,    Outcome::permanent,    Outcome::auth,
    Outcome::halt,    Outcome::rate_limited, Outcome::still_present};

// True for the states in which an erasure still has work to do.
bool is_active(ErasureState s);
// The step an active erasure makes next, `verified` when its workspace has an App API key;
// nullopt for a finished one (and for `resolved`/`erased`, which only verified erasures reach,
// when `verified` is false).
std::optional<Step> next_step(ErasureState s, bool verified);
// The audit event of a call.
Event call_event(Step s);

// A claimed erasure, as decide() needs to see it.
struct Unit {
    ErasureState state = ErasureState::pending;
    std::int64_t attempt = 1;        // this attempt of the current step, counting it
    std::int64_t max_attempts = 1;   // attempts allowed per step before the erasure is dead
    bool verified = false;           // the workspace has an App API key: resolve and verify
    bool verify_window_over = false; // verify: [worker] verify_window_s has passed since erased
    bool erase_round_left = false;   // verify: it may still be erased once more
};

// One call's result, as decide() needs to see it.
struct CallOutcome {
    Outcome outcome = Outcome::retryable;
    long http_status = 0; // 0: no HTTP response
    std::string error;    // short reason, no personal data; empty on success
};

// The answer of decide().
struct Decision {
    ErasureState next = ErasureState::pending; // the erasure's state after the call
    Lease lease = Lease::release;
    bool retry = false;        // schedule another attempt (the worker picks the time)
    bool new_step = false;     // the step changed or starts over: its attempts count from 0
    Halt halt = Halt::none;    // stop the worker after applying this
    std::vector<Event> events; // in order; the call's own event first
    std::string reason;        // why the erasure is dead (next == dead); no personal data
};

// Before any call: an erasure claimed beyond its attempts (earlier attempts never reported back,
// their worker died) is dead without another call; nullopt when the call may go ahead.
std::optional<Decision> decide_before_call(const Unit& unit);

// What a call's outcome means for a claimed erasure in an active state making `step`. Pure: no
// clock, no randomness, no I/O. Throws std::logic_error when `step` is not the unit's next step.
Decision decide(const Unit& unit, Step step, const CallOutcome& call);

// The request's state from the states of its erasures (none yet: pending). A dead erasure makes
// the request dead at once, while its other erasures go on; cancelled only when all are.
RequestState aggregate(const std::vector<ErasureState>& erasures);

} // namespace lethe::erasure
