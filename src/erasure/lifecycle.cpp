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
    case ErasureState::suppressed:
        return "suppressed";
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
    case Step::suppress:
        return "suppress";
    case Step::destroy:
        return "destroy";
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
    }
    throw std::logic_error("unknown Outcome");
}

std::string_view to_text(Event e) {
    switch (e) {
    case Event::request_planned:
        return "request.planned";
    case Event::erasure_planned:
        return "erasure.planned";
    case Event::call_suppress:
        return "call.suppress";
    case Event::call_destroy:
        return "call.destroy";
    case Event::erasure_suppressed:
        return "erasure.suppressed";
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
    return s == ErasureState::pending || s == ErasureState::suppressed;
}

std::optional<Step> next_step(ErasureState s) {
    switch (s) {
    case ErasureState::pending:
        return Step::suppress;
    case ErasureState::suppressed:
        return Step::destroy;
    default:
        return std::nullopt;
    }
}

Event call_event(Step s) {
    return s == Step::suppress ? Event::call_suppress : Event::call_destroy;
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

Decision decide(const Unit& unit, Step step, const CallOutcome& call) {
    if (next_step(unit.state) != step) {
        throw std::logic_error("decide: " + std::string(to_text(step)) +
                               " is not the next step of " + std::string(to_text(unit.state)));
    }
    const Event call_entry = call_event(step);
    const std::string what(to_text(step));
    Decision d;
    d.next = unit.state;
    switch (call.outcome) {
    case Outcome::success:
        if (step == Step::suppress) {
            // Invariant 1: the destroy follows only once this is committed.
            d.next = ErasureState::suppressed;
            d.lease = Lease::keep;
            d.events = {call_entry, Event::erasure_suppressed};
        } else {
            d.next = ErasureState::done;
            d.lease = Lease::release;
            d.events = {call_entry, Event::erasure_done};
        }
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
