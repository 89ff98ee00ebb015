#include "erasure/lifecycle.hpp"

#include <algorithm>
#include <stdexcept>

namespace lethe::erasure {
namespace {

template <typename E, std::size_t N>
std::optional<E> parse(std::string_view text, const E (&all)[N]) {
    for (E e : all) {
        if (to_text(e) == text) {
            return e;
        }
    }
    return std::nullopt;
}

Decision dead(Event call, std::string reason) {
    Decision d;
    d.next = ErasureState::dead;
    d.lease = Lease::release;
    d.events = {call, Event::erasure_dead};
    d.reason = std::move(reason);
    return d;
}

} // namespace

std::string_view to_text(RequestState s) {
    switch (s) {
    case RequestState::pending:
        return "pending";
    case RequestState::done:
        return "done";
    case RequestState::dead:
        return "dead";
    case RequestState::cancelled:
        return "cancelled";
    }
    throw std::logic_error("unknown RequestState");
}

std::string_view to_text(ErasureState s) {
    switch (s) {
    case ErasureState::pending:
        return "pending";
    case ErasureState::resolved:
        return "resolved";
    case ErasureState::suppressed:
        return "suppressed";
    case ErasureState::erased:
        return "erased";
    case ErasureState::done:
        return "done";
    case ErasureState::dead:
        return "dead";
    case ErasureState::cancelled:
        return "cancelled";
    }
    throw std::logic_error("unknown ErasureState");
}

std::string_view to_text(Step s) {
    switch (s) {
    case Step::resolve:
        return "resolve";
    case Step::suppress:
        return "suppress";
    case Step::destroy:
        return "destroy";
    case Step::verify:
        return "verify";
    }
    throw std::logic_error("unknown Step");
}

std::string_view to_text(Outcome o) {
    switch (o) {
    case Outcome::success:
        return "success";
    case Outcome::retryable:
        return "retryable";
    case Outcome::permanent:
        return "permanent";
    case Outcome::auth:
        return "auth";
    case Outcome::halt:
        return "halt";
    case Outcome::rate_limited:
        return "rate_limited";
    case Outcome::still_present:
        return "still_present";
    }
    throw std::logic_error("unknown Outcome");
}

std::string_view to_text(Event e) {
    switch (e) {
    case Event::request_planned:
        return "request.planned";
    case Event::erasure_planned:
        return "erasure.planned";
    case Event::call_resolve:
        return "call.resolve";
    case Event::call_suppress:
        return "call.suppress";
    case Event::call_destroy:
        return "call.destroy";
    case Event::call_verify:
        return "call.verify";
    case Event::erasure_resolved:
        return "erasure.resolved";
    case Event::erasure_suppressed:
        return "erasure.suppressed";
    case Event::erasure_erased:
        return "erasure.erased";
    case Event::erasure_still_present:
        return "erasure.still_present";
    case Event::erasure_done:
        return "erasure.done";
    case Event::erasure_dead:
        return "erasure.dead";
    case Event::request_done:
        return "request.done";
    case Event::request_dead:
        return "request.dead";
    }
    throw std::logic_error("unknown Event");
}

std::optional<RequestState> parse_request_state(std::string_view text) {
    return parse(text, k_request_states);
}

std::optional<ErasureState> parse_erasure_state(std::string_view text) {
    return parse(text, k_erasure_states);
}

bool is_active(ErasureState s) {
    return s == ErasureState::pending || s == ErasureState::resolved ||
           s == ErasureState::suppressed || s == ErasureState::erased;
}

std::optional<Step> next_step(ErasureState s, bool verified) {
    switch (s) {
    case ErasureState::pending:
        return verified ? Step::resolve : Step::suppress;
    case ErasureState::resolved:
        return verified ? std::optional<Step>(Step::suppress) : std::nullopt;
    case ErasureState::suppressed:
        return Step::destroy;
    case ErasureState::erased:
        return verified ? std::optional<Step>(Step::verify) : std::nullopt;
    default:
        return std::nullopt;
    }
}

Event call_event(Step s) {
    switch (s) {
    case Step::resolve:
        return Event::call_resolve;
    case Step::suppress:
        return Event::call_suppress;
    case Step::destroy:
        return Event::call_destroy;
    case Step::verify:
        return Event::call_verify;
    }
    throw std::logic_error("unknown Step");
}

std::optional<Decision> decide_before_call(const Unit& unit) {
    if (unit.attempt <= unit.max_attempts) {
        return std::nullopt;
    }
    Decision d;
    d.next = ErasureState::dead;
    d.lease = Lease::release;
    d.events = {Event::erasure_dead};
    d.reason = "attempts exhausted after " + std::to_string(unit.attempt - 1) +
               " (earlier attempts did not finish)";
    return d;
}

namespace {

// The next state and events of a step that succeeded.
Decision succeeded(const Unit& unit, Step step, Event call_entry) {
    Decision d;
    d.new_step = true;
    d.lease = Lease::keep;
    switch (step) {
    case Step::resolve:
        d.next = ErasureState::resolved;
        d.events = {call_entry, Event::erasure_resolved};
        break;
    case Step::suppress:
        // Invariant 1: the destroy follows only once this is committed.
        d.next = ErasureState::suppressed;
        d.events = {call_entry, Event::erasure_suppressed};
        break;
    case Step::destroy:
        if (unit.verified) {
            d.next = ErasureState::erased; // verified at once, in the same claim
            d.events = {call_entry, Event::erasure_erased};
        } else {
            d.next = ErasureState::done; // unverified: no App API key to read back with
            d.lease = Lease::release;
            d.events = {call_entry, Event::erasure_done};
        }
        break;
    case Step::verify:
        d.next = ErasureState::done;
        d.lease = Lease::release;
        d.events = {call_entry, Event::erasure_done};
        break;
    }
    return d;
}

// A profile is still there after the erasure: look again later inside the window, then erase
// once more (resolving again: it may have come back under a new cio_id), then give up loudly.
Decision still_present(const Unit& unit, Event call_entry) {
    Decision d;
    d.lease = Lease::release;
    d.events = {call_entry, Event::erasure_still_present};
    if (!unit.verify_window_over) {
        d.next = ErasureState::erased;
        d.retry = true;
        d.new_step = true; // a re-check is not a failed attempt
        return d;
    }
    if (unit.erase_round_left) {
        d.next = ErasureState::pending;
        d.retry = true;
        d.new_step = true;
        return d;
    }
    d.next = ErasureState::dead;
    d.events.push_back(Event::erasure_dead);
    d.reason = "profile still present after erasure";
    return d;
}

} // namespace

Decision decide(const Unit& unit, Step step, const CallOutcome& call) {
    if (next_step(unit.state, unit.verified) != step) {
        throw std::logic_error("decide: " + std::string(to_text(step)) +
                               " is not the next step of " + std::string(to_text(unit.state)));
    }
    const Event call_entry = call_event(step);
    const std::string what(to_text(step));
    Decision d;
    d.next = unit.state;
    switch (call.outcome) {
    case Outcome::success:
        return succeeded(unit, step, call_entry);
    case Outcome::still_present:
        if (step != Step::verify) {
            throw std::logic_error("decide: still_present is an outcome of verify only");
        }
        return still_present(unit, call_entry);
    case Outcome::rate_limited:
        // The workspace's limit, not the erasure's: try again, and the attempt does not count.
        d.lease = Lease::release_uncharged;
        d.retry = true;
        d.events = {call_entry};
        return d;
    case Outcome::retryable:
        if (unit.attempt >= unit.max_attempts) {
            return dead(call_entry, what + ": " + call.error + " (attempts exhausted after " +
                                        std::to_string(unit.attempt) + ")");
        }
        d.lease = Lease::release;
        d.retry = true;
        d.events = {call_entry};
        return d;
    case Outcome::permanent:
        return dead(call_entry, what + ": " + call.error);
    case Outcome::auth:
    case Outcome::halt:
        // Not the erasure's fault: give it back as it was and stop the worker.
        d.lease = Lease::release_uncharged;
        d.halt = call.outcome == Outcome::auth ? Halt::credentials : Halt::environment;
        d.events = {call_entry};
        return d;
    }
    throw std::logic_error("unknown Outcome");
}

RequestState aggregate(const std::vector<ErasureState>& erasures) {
    auto all = [&](ErasureState s) {
        return std::all_of(erasures.begin(), erasures.end(), [&](auto e) { return e == s; });
    };
    if (erasures.empty()) {
        return RequestState::pending;
    }
    if (std::find(erasures.begin(), erasures.end(), ErasureState::dead) != erasures.end()) {
        return RequestState::dead;
    }
    if (all(ErasureState::done)) {
        return RequestState::done;
    }
    if (all(ErasureState::cancelled)) {
        return RequestState::cancelled;
    }
    return RequestState::pending;
}

} // namespace lethe::erasure
