#include "worker/worker.hpp"

#include "util/json_writer.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <spdlog/spdlog.h>
#include <thread>

namespace lethe::worker {
namespace {

erasure::Outcome lifecycle_outcome(const cio::CallResult& r) {
    if (r.http_status == 429) {
        return erasure::Outcome::rate_limited;
    }
    switch (r.outcome) {
    case cio::Outcome::success:
        return erasure::Outcome::success;
    case cio::Outcome::retryable:
        return erasure::Outcome::retryable;
    case cio::Outcome::permanent:
        return erasure::Outcome::permanent;
    case cio::Outcome::auth:
        return erasure::Outcome::auth;
    case cio::Outcome::halt:
        return erasure::Outcome::halt;
    }
    return erasure::Outcome::halt;
}

// Most times a profile still present is erased again before the erasure is dead.
constexpr std::int64_t k_erase_rounds = 1;

// A request's identifier as a typed target: a cio_id without its "cio_" path prefix (Track v2
// and the App API take the bare id).
cio::Target target_of(const store::ClaimedErasure& e) {
    if (e.id_type == "cio_id" && e.identifier.rfind("cio_", 0) == 0) {
        return {"cio_id", e.identifier.substr(4)};
    }
    return {e.id_type, e.identifier};
}

store::CallRecord to_record(const cio::CallResult& result, erasure::Step step,
                            const std::string& target) {
    store::CallRecord rec;
    rec.step = step;
    rec.target = target;
    rec.http_status = result.http_status;
    rec.outcome = lifecycle_outcome(result);
    rec.error = result.error;
    rec.latency_ms = result.latency_ms;
    rec.already_gone = result.already_gone;
    return rec;
}

constexpr TimeMs k_progress_interval_ms = 250;
constexpr TimeMs k_summary_interval_ms = 60'000;
constexpr TimeMs k_gate_slice_ms = 50;
// How far ahead of the erasure slots the App API thread resolves (see resolved_running_low).
constexpr TimeMs k_resolve_ahead_ms = 2000;
// A busy database (another writer) is waited out in pauses of this length; after a stop request,
// for this long at most (each try also waits SQLite's own busy timeout).
constexpr TimeMs k_busy_pause_ms = 100;
constexpr TimeMs k_busy_grace_ms = 30'000;

} // namespace

Worker::Worker(store::WorkerQueue& queue, ErasureApiFactory api_factory, WorkerSettings settings,
               const Clock& clock, Sleeper& sleeper, Random& random)
    : m_queue(queue), m_api_factory(std::move(api_factory)), m_settings(settings), m_clock(clock),
      m_sleeper(sleeper), m_random(random), m_pacer(settings.pacing_ms, clock),
      m_app_pacer(settings.app_interval_ms, clock) {
}

Worker::~Worker() = default;

void Worker::request_stop() {
    m_stop = true;
    m_cv.notify_all();
}

WorkerReport Worker::report() const {
    std::lock_guard lock(m_mutex);
    return m_report;
}

void Worker::halt(HaltKind kind, const std::string& reason, const std::string& evidence) {
    {
        std::lock_guard lock(m_mutex);
        if (!m_report.halted) {
            m_report.halted = true;
            m_report.halt = kind;
            m_report.halt_reason = reason;
            m_report.halt_evidence = evidence.empty() ? reason : evidence;
        }
    }
    request_stop();
}

bool Worker::pinned() {
    if (!m_pin_checker) {
        return true;
    }
    PinResult pin = m_pin_checker();
    if (pin.failure == HaltKind::none) {
        if (!m_pinned.exchange(true)) {
            // The App API thread waits for the first pin (under the mutex: no lost wake-up).
            std::lock_guard lock(m_mutex);
            m_cv.notify_all();
        }
        if (m_unreachable.exchange(false)) {
            spdlog::info("workspace {}: reachable again and pinned", m_settings.workspace);
        }
        m_pin_failures = 0;
        return true;
    }
    const std::string reason = "workspace " + m_settings.workspace + ": " + pin.reason;
    if (pin.failure == HaltKind::unreachable) {
        return pin_unreachable(pin, reason);
    }
    spdlog::error("{}; no erasure call was made with these credentials", reason);
    m_queue.audit_event(
        "workspace.pin_failed",
        JsonWriter()
            .field("workspace", m_settings.workspace)
            .field("worker", m_queue.owner())
            .field("reason", pin.code.empty() ? std::string("pin_failed") : pin.code)
            .str());
    halt(pin.failure, reason,
         "workspace " + m_settings.workspace + ": " + (pin.code.empty() ? "pin_failed" : pin.code));
    return false;
}

bool Worker::pin_unreachable(const PinResult& pin, const std::string& reason) {
    // Not an operator's problem, and not the other workspaces': this one waits. The question is
    // asked again after a short backoff (a 503 or a 429 of the moment); a drain run gives up
    // after max_attempts tries and leaves the workspace's erasures for the next run, a service
    // keeps asking.
    const std::int64_t failures = ++m_pin_failures;
    if (!m_unreachable.exchange(true)) {
        spdlog::warn("{}; asking again before any erasure call is made to it", reason);
    }
    if (m_settings.once && failures >= m_settings.retry.max_attempts) {
        spdlog::error("{}; no erasure call was made to it in this run", reason);
        m_queue.audit_event(
            "workspace.unreachable",
            JsonWriter()
                .field("workspace", m_settings.workspace)
                .field("worker", m_queue.owner())
                .field("reason", pin.code.empty() ? std::string("pin_failed") : pin.code)
                .field("attempts", failures)
                .str());
        std::lock_guard lock(m_mutex);
        m_report.unreachable_reason = reason;
        m_report.stop_reason = "unreachable";
        m_stop = true;
        return false;
    }
    RetryPolicy quick = m_settings.retry;
    quick.base_ms = std::min<TimeMs>(quick.base_ms, 1'000);
    quick.max_ms = std::min<TimeMs>(quick.max_ms, 2'000);
    TimeMs delay = backoff_delay(quick, std::min<std::int64_t>(failures, 20), m_random);
    if (!m_settings.once && failures >= m_settings.retry.max_attempts) {
        delay = std::max(delay, m_settings.poll_interval_ms);
    }
    wait_until(m_clock.now_ms() + delay);
    return false;
}

bool Worker::wait_for_gate() {
    // A 429 pauses every call of this worker: the rate limit is per workspace.
    while (true) {
        TimeMs remaining = m_pacer.paused_until() - m_clock.now_ms();
        if (remaining <= 0) {
            return true;
        }
        if (stopping()) {
            // Sending now would break the pause and, answered by another 429, charge the
            // request an attempt (its last, maybe) for a shutdown.
            return false;
        }
        m_sleeper.sleep_ms(std::min(remaining, k_gate_slice_ms));
    }
}

std::optional<cio::BatchResult> Worker::send(ErasureApi& api, erasure::Step step,
                                             const std::vector<cio::Target>& who) {
    if (!wait_for_gate()) {
        return std::nullopt;
    }
    if (who.size() == 1) {
        return cio::BatchResult{
            step == erasure::Step::suppress ? api.suppress(who[0]) : api.destroy(who[0]), {}};
    }
    return api.batch(step, who);
}

bool Worker::credentials_renewed(std::uint64_t refused_generation, long http_status) {
    if (!m_reloader) {
        return false;
    }
    std::lock_guard lock(m_reload_mutex);
    if (m_credential_generation != refused_generation) {
        return true; // another slot re-read them after this call was sent: try the new ones
    }
    if (m_reload_tried_for == refused_generation) {
        return false; // re-read already, and they had not changed
    }
    m_reload_tried_for = refused_generation;
    spdlog::warn("Customer.io refused the credentials (HTTP {}); re-reading them", http_status);
    if (!m_reloader()) {
        return false;
    }
    ++m_credential_generation;
    // New credentials may belong to another workspace: pin them before the first call.
    return pinned();
}

std::optional<cio::BatchResult> Worker::call_with_reload(ErasureApi& api, erasure::Step step,
                                                         const std::vector<cio::Target>& who) {
    const std::uint64_t generation = m_credential_generation;
    auto result = send(api, step, who);
    // Credentials may have been rotated under us: with several calls in flight, all of them are
    // refused at once, and each must get the one re-read, not only the first.
    if (result && result->call.outcome == cio::Outcome::auth &&
        credentials_renewed(generation, result->call.http_status)) {
        result = stopping() ? std::nullopt : send(api, step, who);
    }
    return result;
}

bool Worker::wait_out_busy(std::optional<TimeMs>& busy_since) {
    const TimeMs now = m_clock.now_ms();
    if (!busy_since) {
        busy_since = now;
        spdlog::warn("workspace {}: the database is busy (another process holds its write lock); "
                     "waiting for it, no attempt is charged",
                     m_settings.workspace);
    }
    if (stopping() && now - *busy_since >= k_busy_grace_ms) {
        return false;
    }
    m_sleeper.sleep_ms(k_busy_pause_ms);
    return true;
}

bool Worker::apply_copy(store::ClaimedErasure& e, const erasure::Decision& d,
                        const store::StepFacts& facts, std::optional<TimeMs> next_attempt_at) {
    store::ClaimedErasure attempt = e;
    const bool ok = m_queue.apply(attempt, d, facts, next_attempt_at);
    e = std::move(attempt);
    return ok;
}

void Worker::database_available(const std::optional<TimeMs>& busy_since) {
    if (busy_since) {
        spdlog::info("workspace {}: the database is available again after {} ms",
                     m_settings.workspace, m_clock.now_ms() - *busy_since);
    }
}

void Worker::give_back(const store::ClaimedErasure& e) {
    try {
        if (m_queue.release(e)) {
            std::lock_guard lock(m_mutex);
            ++m_report.released;
        }
    } catch (const std::exception& ex) {
        // Not lost: the lease expires and the erasure is claimed again.
        spdlog::warn("request {} in {}: lease not released ({}); it expires on its own",
                     e.request_id, e.workspace, ex.what());
    }
}

void Worker::note_rate_limit(const cio::CallResult& result, TimeMs now) {
    if (result.http_status != 429) {
        if (result.outcome == cio::Outcome::success) {
            std::lock_guard lock(m_mutex);
            m_consecutive_429 = 0;
        }
        return;
    }
    std::int64_t n;
    {
        std::lock_guard lock(m_mutex);
        n = ++m_consecutive_429;
    }
    TimeMs pause = result.retry_after_ms.value_or(backoff_delay(m_settings.retry, n, m_random) +
                                                  m_settings.retry.base_ms / 2);
    m_pacer.pause_until(now + pause);
    spdlog::warn("workspace {}: Customer.io rate limit (429): pausing its calls for {} ms",
                 m_settings.workspace, pause);
}

void Worker::account(const store::ClaimedErasure& e, erasure::Step step, const erasure::Decision& d,
                     const cio::CallResult& result, TimeMs next_attempt_at) {
    std::lock_guard lock(m_mutex);
    if (d.lease == erasure::Lease::release_uncharged && !d.retry) {
        ++m_report.released;
    } else if (d.next == erasure::ErasureState::done) {
        ++m_report.erased;
        spdlog::info("request {}: erased in {}{} (subject {})", e.request_id, e.workspace,
                     step == erasure::Step::verify ? ", verified" : ", unverified (no App API key)",
                     e.subject_digest.substr(0, 16));
    } else if (d.next == erasure::ErasureState::dead) {
        ++m_report.dead;
        spdlog::error("request {}: dead in {}: {}", e.request_id, e.workspace, d.reason);
    } else if (d.retry) {
        ++m_report.retries;
        spdlog::warn("request {}: {} in {} {} ({}), attempt {}; again in {} ms", e.request_id,
                     erasure::to_text(step), e.workspace,
                     step == erasure::Step::verify ? "found a profile still present" : "failed",
                     result.error.empty() ? "still present" : result.error, e.step_attempt,
                     next_attempt_at - m_clock.now_ms());
    }
}

bool Worker::wait_for_app() {
    while (true) {
        if (stopping()) {
            return false;
        }
        if (m_app_pacer.try_start()) {
            return true;
        }
        const TimeMs wait = m_app_pacer.next_start() - m_clock.now_ms();
        m_sleeper.sleep_ms(std::clamp<TimeMs>(wait, 1, k_gate_slice_ms));
    }
}

bool Worker::wait_for_pin() {
    if (!m_pin_checker) {
        return true;
    }
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [&] { return m_stop || m_no_more_work || m_pinned.load(); });
    return !m_stop && !m_no_more_work;
}

bool Worker::wait_for_app_turn() {
    while (true) {
        {
            std::lock_guard lock(m_mutex);
            if (m_stop || m_no_more_work) {
                return false;
            }
        }
        const TimeMs wait = m_app_pacer.next_start() - m_clock.now_ms();
        if (wait <= 0) {
            return true;
        }
        m_sleeper.sleep_ms(std::min(wait, k_gate_slice_ms));
    }
}

std::optional<Worker::StepResult> Worker::resolve(VerifyApi& app, const store::ClaimedErasure& e) {
    const cio::Target who = target_of(e);
    if (!wait_for_app()) {
        return std::nullopt;
    }
    cio::Lookup found = app.find(who);
    StepResult out;
    out.result = found.call;
    out.facts.verified = true;
    if (found.not_an_identifier) {
        out.result.outcome = cio::Outcome::permanent;
        out.result.error = who.id_type + " is not an identifier of this workspace";
    }
    out.facts.calls.push_back(to_record(out.result, erasure::Step::resolve, who.id_type));
    out.outcome = lifecycle_outcome(out.result);
    if (out.outcome == erasure::Outcome::success) {
        out.facts.found = std::move(found.cio_ids);
    }
    return out;
}

namespace {

// What a suppress or destroy step names. Verified: each profile found, by its cio_id (which no
// workspace setting can misread), and on suppress the identifier itself too (last), so it cannot
// be added again. Unverified: the identifier, typed.
struct StepTargets {
    std::vector<cio::Target> targets;
    bool ends_with_own = false; // the last target is the request's own identifier
};

StepTargets step_targets(const store::ClaimedErasure& e, const cio::Target& who, erasure::Step step,
                         bool verified) {
    StepTargets out;
    if (!verified) {
        out.targets.push_back(who);
        return out;
    }
    for (const auto& cio_id : e.profiles) {
        out.targets.push_back({"cio_id", cio_id});
    }
    const bool is_profile =
        who.id_type == "cio_id" &&
        std::find(e.profiles.begin(), e.profiles.end(), who.value) != e.profiles.end();
    if (step == erasure::Step::suppress && !is_profile) {
        out.targets.push_back(who);
        out.ends_with_own = true;
    }
    return out;
}

// Whether the call refused the request's own identifier, the last of `operations`: a 400 of a
// single call, or its position among a batch's refused operations (taken out of the list).
bool own_identifier_refused(cio::BatchResult& result, std::size_t operations) {
    if (operations == 1) {
        return result.call.outcome == cio::Outcome::permanent && result.call.http_status == 400;
    }
    auto at = std::find(result.refused.begin(), result.refused.end(), operations - 1);
    if (at == result.refused.end()) {
        return false;
    }
    result.refused.erase(at);
    return true;
}

} // namespace

std::optional<Worker::StepResult> Worker::track_step(ErasureApi& api,
                                                     const store::ClaimedErasure& e,
                                                     erasure::Step step, bool verified) {
    const cio::Target who = target_of(e);
    const StepTargets planned = step_targets(e, who, step, verified);
    const auto& targets = planned.targets;
    StepResult out;
    out.facts.verified = verified;
    out.result.outcome = cio::Outcome::success;
    // Several targets go in batches: one call for all of a person's profiles (and their
    // identifier), so a verified erasure costs two Track calls, not one per target plus one.
    for (std::size_t begin = 0; begin < targets.size(); begin += cio::k_max_batch_operations) {
        const std::size_t end = std::min(targets.size(), begin + cio::k_max_batch_operations);
        const std::vector<cio::Target> chunk(targets.begin() + static_cast<long>(begin),
                                             targets.begin() + static_cast<long>(end));
        auto result = call_with_reload(api, step, chunk);
        if (!result) {
            return std::nullopt;
        }
        cio::CallResult& call = result->call;
        note_rate_limit(call, m_clock.now_ms());
        if (planned.ends_with_own && end == targets.size() &&
            own_identifier_refused(*result, chunk.size())) {
            // Its profiles are erased by cio_id; the workspace just does not take this type as
            // an identifier (an e-mail where people are identified by id), so it cannot be
            // blocked there. Recorded, not a failure.
            call.outcome = cio::Outcome::success;
            call.error = who.id_type + " is not an identifier of this workspace";
        }
        if (call.outcome == cio::Outcome::success && !result->refused.empty()) {
            call.outcome = cio::Outcome::permanent;
            call.error = "HTTP 207: " + std::to_string(result->refused.size()) + " of " +
                         std::to_string(chunk.size()) + " operations refused";
        }
        if (!verified && call.outcome == cio::Outcome::permanent && call.http_status == 400 &&
            (who.id_type == "email" || who.id_type == "phone") &&
            call.reason == cio::ApiReason::not_an_identifier) {
            // Said in lethe's own words (invariant 9), once the API has said why.
            call.error = std::string("HTTP 400: ") + (who.id_type == "email" ? "e-mail" : "phone") +
                         " is not an identifier of this workspace; without an App API key "
                         "its profiles cannot be found";
        }
        out.facts.calls.push_back(
            to_record(call, step, chunk.size() == 1 ? chunk[0].id_type : "batch"));
        out.facts.calls.back().operations = static_cast<std::int64_t>(chunk.size());
        out.result = call;
        if (call.outcome != cio::Outcome::success) {
            break;
        }
    }
    out.outcome = lifecycle_outcome(out.result);
    return out;
}

cio::BatchResult ErasureApi::batch(erasure::Step step, const std::vector<cio::Target>& who) {
    cio::BatchResult out;
    out.call.outcome = cio::Outcome::success;
    out.call.http_status = 200;
    TimeMs latency = 0;
    for (std::size_t i = 0; i < who.size(); ++i) {
        cio::CallResult r = step == erasure::Step::suppress ? suppress(who[i]) : destroy(who[i]);
        latency += r.latency_ms;
        if (r.outcome == cio::Outcome::permanent && r.http_status == 400) {
            out.refused.push_back(i);
            out.call.http_status = 207;
        } else if (r.outcome != cio::Outcome::success) {
            out.call = r;
            out.refused.clear();
            break;
        }
    }
    out.call.latency_ms = latency;
    return out;
}

std::optional<Worker::StepResult> Worker::verify(VerifyApi& app, const store::ClaimedErasure& e) {
    const cio::Target who = target_of(e);
    StepResult out;
    out.facts.verified = true;
    std::vector<std::string> still;
    if (!e.profiles.empty()) {
        if (!wait_for_app()) {
            return std::nullopt;
        }
        cio::Lookup present = app.present(e.profiles);
        out.facts.calls.push_back(to_record(present.call, erasure::Step::verify, "cio_id"));
        out.result = present.call;
        if (present.call.outcome != cio::Outcome::success) {
            out.outcome = lifecycle_outcome(out.result);
            return out;
        }
        still = present.cio_ids;
    }
    if (!wait_for_app()) {
        return std::nullopt;
    }
    cio::Lookup found = app.find(who);
    out.facts.calls.push_back(to_record(found.call, erasure::Step::verify, who.id_type));
    out.result = found.call;
    if (found.call.outcome != cio::Outcome::success) {
        out.outcome = lifecycle_outcome(out.result);
        return out;
    }
    for (const auto& id : found.cio_ids) {
        if (std::find(still.begin(), still.end(), id) == still.end()) {
            still.push_back(id);
        }
    }
    // A profile found now that was not erased (re-created, or not yet visible to the resolve)
    // joins the list, so the next round erases it too.
    for (const auto& id : found.cio_ids) {
        if (std::find(e.profiles.begin(), e.profiles.end(), id) == e.profiles.end()) {
            out.facts.found.push_back(id);
        }
    }
    out.facts.present = static_cast<std::int64_t>(still.size());
    out.outcome = still.empty() ? erasure::Outcome::success : erasure::Outcome::still_present;
    return out;
}

std::optional<Worker::StepResult> Worker::run_step(ErasureApi& api, VerifyApi* app,
                                                   const store::ClaimedErasure& e,
                                                   erasure::Step step) {
    switch (step) {
    case erasure::Step::resolve:
        return resolve(*app, e);
    case erasure::Step::suppress:
    case erasure::Step::destroy:
        return track_step(api, e, step, app != nullptr);
    case erasure::Step::verify:
        return verify(*app, e);
    }
    return std::nullopt;
}

bool Worker::handle(store::ClaimedErasure& e, erasure::Step step, const StepResult& sr,
                    bool verified) {
    const TimeMs now = m_clock.now_ms();
    if (sr.result.http_status == 429 &&
        (step == erasure::Step::resolve || step == erasure::Step::verify)) {
        // The App API's limit pauses only the App API's schedule.
        m_app_pacer.pause_until(now + sr.result.retry_after_ms.value_or(1'000));
    } else if (sr.result.outcome == cio::Outcome::success && sr.result.http_status != 429) {
        std::lock_guard lock(m_mutex);
        m_consecutive_429 = 0;
    }
    erasure::Unit unit;
    unit.state = e.state;
    unit.attempt = e.step_attempt;
    unit.max_attempts = m_settings.retry.max_attempts;
    unit.verified = verified;
    unit.verify_window_over = e.erased_at && now - *e.erased_at >= m_settings.verify_window_ms;
    unit.erase_round_left = e.erase_rounds < k_erase_rounds;
    erasure::Decision d =
        erasure::decide(unit, step, {sr.outcome, sr.result.http_status, sr.result.error});
    TimeMs next = 0;
    if (d.retry) {
        if (sr.outcome == erasure::Outcome::still_present) {
            // Deletes are applied asynchronously: look again soon, then less often.
            RetryPolicy recheck = m_settings.retry;
            recheck.max_ms =
                std::max<TimeMs>(1, std::min(recheck.max_ms, m_settings.verify_window_ms / 4));
            next =
                now + backoff_delay(recheck, std::max<std::int64_t>(1, e.step_attempt), m_random);
        } else {
            next = next_attempt_time(m_settings.retry, std::max<std::int64_t>(1, e.step_attempt),
                                     now, sr.result.retry_after_ms, m_random);
        }
    }
    const store::ClaimedErasure before = e;
    // The call was made: its outcome is recorded as soon as the database allows (issue 16).
    const bool applied = with_database([&] {
        return apply_copy(e, d, sr.facts, d.retry ? std::optional<TimeMs>(next) : std::nullopt);
    });
    if (!applied) {
        spdlog::warn("request {} in {}: lease lost (another worker took it over); result dropped",
                     e.request_id, e.workspace);
        return false;
    }
    account(before, step, d, sr.result, next);
    if (d.halt != erasure::Halt::none) {
        // Not the erasure's fault: it was given back uncharged; stop the worker.
        const bool app_api = step == erasure::Step::resolve || step == erasure::Step::verify;
        halt(d.halt == erasure::Halt::credentials ? HaltKind::credentials : HaltKind::environment,
             d.halt == erasure::Halt::credentials
                 ? "workspace " + m_settings.workspace + ": Customer.io refused the " +
                       (app_api ? std::string("App API key") : std::string("credentials")) +
                       " (HTTP " + std::to_string(sr.result.http_status) + "); check " +
                       (app_api ? "the App API key" : "site_id and the Track API key") +
                       ", then run again"
                 : "workspace " + m_settings.workspace + ": " +
                       std::string(erasure::to_text(step)) + ": " + sr.result.error);
    }
    return d.lease == erasure::Lease::keep;
}

void Worker::erase(ErasureApi& api, store::ClaimedErasure e, VerifyApi* app) {
    const bool verified = m_verify_factory != nullptr && app != nullptr;
    if (auto d = erasure::decide_before_call(
            {e.state, e.step_attempt, m_settings.retry.max_attempts, verified})) {
        // Earlier attempts never reported back (the worker died during them).
        if (with_database([&] { return apply_copy(e, *d); })) {
            std::lock_guard lock(m_mutex);
            ++m_report.dead;
            spdlog::error("request {}: dead in {}: {}", e.request_id, e.workspace, d->reason);
        }
        return;
    }
    while (auto step = erasure::next_step(e.state, verified)) {
        if (m_batching && (*step == erasure::Step::resolve || *step == erasure::Step::verify)) {
            pass_on(std::move(e));
            return;
        }
        auto result = run_step(api, verified ? app : nullptr, e, *step);
        if (!result) {
            give_back(e);
            return;
        }
        if (!handle(e, *step, *result, verified)) {
            return;
        }
        if (stopping() && erasure::next_step(e.state, verified)) {
            // This step is committed; the next waits for the next run.
            give_back(e);
            return;
        }
    }
}

void Worker::pass_on(store::ClaimedErasure e) {
    const auto step = erasure::next_step(e.state, true);
    if (step == erasure::Step::suppress || step == erasure::Step::destroy) {
        {
            std::lock_guard lock(m_mutex);
            if (!m_stop) {
                m_resolved.push_back(std::move(e));
                m_cv.notify_all();
                return;
            }
        }
        give_back(e);
        return;
    }
    // The App API thread claims it from the queue, batched with others: given back uncharged
    // (this claim's attempt of the new step was not made), due at once.
    try {
        m_queue.release(e);
    } catch (const std::exception& ex) {
        spdlog::warn("request {} in {}: lease not released ({}); it expires on its own",
                     e.request_id, e.workspace, ex.what());
    }
    m_cv.notify_all();
}

std::optional<store::ClaimedErasure> Worker::take_resolved() {
    std::lock_guard lock(m_mutex);
    if (m_resolved.empty()) {
        return std::nullopt;
    }
    store::ClaimedErasure e = std::move(m_resolved.front());
    m_resolved.erase(m_resolved.begin());
    return e;
}

bool Worker::started_work_left() {
    std::lock_guard lock(m_mutex);
    return !m_resolved.empty() || m_app_resolving;
}

std::vector<store::ClaimedErasure> Worker::live_claims(std::vector<store::ClaimedErasure> batch) {
    std::vector<store::ClaimedErasure> live;
    for (auto& e : batch) {
        auto d = erasure::decide_before_call(
            {e.state, e.step_attempt, m_settings.retry.max_attempts, true});
        if (!d) {
            live.push_back(std::move(e));
            continue;
        }
        // Earlier attempts never reported back (the worker died during them).
        if (with_database([&] { return apply_copy(e, *d); })) {
            std::lock_guard lock(m_mutex);
            ++m_report.dead;
            spdlog::error("request {}: dead in {}: {}", e.request_id, e.workspace, d->reason);
        }
    }
    return live;
}

bool Worker::resolved_running_low() {
    // Enough resolved erasures for the slots to go on at the pacing schedule while the App API
    // thread makes a few reads (150 ms each, at 10/s): else the slots wait for the next resolve
    // behind a round of verifications.
    const TimeMs pacing = std::max<TimeMs>(m_settings.pacing_ms, 1);
    const auto low_water = std::clamp<std::size_t>(
        static_cast<std::size_t>(k_resolve_ahead_ms / pacing),
        static_cast<std::size_t>(m_settings.concurrency), cio::k_max_bulk_values);
    std::lock_guard lock(m_mutex);
    return m_resolved.size() < low_water;
}

std::vector<store::ClaimedErasure> Worker::claim_app_batch() {
    const auto limit = static_cast<std::int64_t>(cio::k_max_bulk_values);
    std::vector<store::ClaimedErasure> batch;
    if (!resolved_running_low() || budget_exhausted()) {
        batch = with_database([&] {
            return m_queue.claim_batch(m_settings.workspace, {erasure::ErasureState::erased}, limit,
                                       m_settings.lease_ms);
        });
    }
    if (!batch.empty() || budget_exhausted()) {
        return batch;
    }
    batch = with_database([&] {
        return m_queue.claim_batch(m_settings.workspace, {erasure::ErasureState::pending}, limit,
                                   m_settings.lease_ms);
    });
    if (batch.empty()) {
        // Nothing new to resolve: verifications go ahead.
        return with_database([&] {
            return m_queue.claim_batch(m_settings.workspace, {erasure::ErasureState::erased}, limit,
                                       m_settings.lease_ms);
        });
    }
    // Each pending erasure starts here; what --max has no start left for goes back.
    std::vector<store::ClaimedErasure> started;
    for (auto& e : batch) {
        if (take_start()) {
            started.push_back(std::move(e));
            std::lock_guard lock(m_mutex);
            ++m_report.started;
        } else {
            give_back(e);
        }
    }
    return started;
}

bool Worker::search_only(const std::string& type) {
    std::lock_guard lock(m_search_mutex);
    return m_search_only.count(type) != 0;
}

void Worker::set_search_only(const std::string& type) {
    std::lock_guard lock(m_search_mutex);
    m_search_only.insert(type);
}

Worker::TypeGroups Worker::group_by_type(const std::vector<store::ClaimedErasure>& batch,
                                         erasure::Step step) {
    TypeGroups out;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const cio::Target who = target_of(batch[i]);
        if (step == erasure::Step::verify && who.id_type == "cio_id" &&
            std::find(batch[i].profiles.begin(), batch[i].profiles.end(), who.value) !=
                batch[i].profiles.end()) {
            // The identifier is one of its erased profiles, which read_profiles reads: the same
            // question, not asked twice.
            out.unread.push_back(i);
            continue;
        }
        auto g = std::find_if(out.groups.begin(), out.groups.end(),
                              [&](const auto& x) { return x.first == who.id_type; });
        if (g == out.groups.end()) {
            out.groups.push_back({who.id_type, {}});
            g = std::prev(out.groups.end());
        }
        g->second.push_back(i);
    }
    return out;
}

bool Worker::read_identifiers(VerifyApi& app, const std::vector<store::ClaimedErasure>& batch,
                              erasure::Step step, std::vector<Reading>& readings,
                              const OnRead& on_read) {
    const TypeGroups grouped = group_by_type(batch, step);
    if (on_read && !grouped.unread.empty()) {
        on_read(grouped.unread);
    }
    for (const auto& [type, members] : grouped.groups) {
        if (!read_group(app, batch, step, type, members, readings, on_read)) {
            return false;
        }
    }
    return true;
}

bool Worker::read_group(VerifyApi& app, const std::vector<store::ClaimedErasure>& batch,
                        erasure::Step step, const std::string& type,
                        const std::vector<std::size_t>& members, std::vector<Reading>& readings,
                        const OnRead& on_read) {
    auto done = [&](std::vector<std::size_t> positions) {
        if (on_read) {
            on_read(positions);
        }
    };
    auto record = [&](std::size_t i, const cio::CallResult& call) {
        readings[i].calls.push_back(to_record(call, step, type));
        if (!readings[i].failed()) {
            readings[i].result = call;
        }
    };
    std::vector<std::size_t> one_by_one;
    for (std::size_t at = 0; at < members.size(); at += cio::k_max_bulk_values) {
        const std::size_t end = std::min(members.size(), at + cio::k_max_bulk_values);
        // Where e-mail (or phone) is not an identifier, several profiles may share one, and
        // only a search finds them all: one call per value.
        if (search_only(type)) {
            one_by_one.insert(one_by_one.end(), members.begin() + static_cast<long>(at),
                              members.begin() + static_cast<long>(end));
            continue;
        }
        std::vector<std::string> values;
        for (std::size_t k = at; k < end; ++k) {
            values.push_back(target_of(batch[members[k]]).value);
        }
        if (!wait_for_app()) {
            return false;
        }
        cio::BulkLookup bulk = app.find_many(type, values);
        if (bulk.not_an_identifier && (type == "email" || type == "phone")) {
            set_search_only(type); // this chunk and the rest: by search
            one_by_one.insert(one_by_one.end(), members.begin() + static_cast<long>(at),
                              members.begin() + static_cast<long>(end));
            continue;
        }
        if (bulk.call.http_status == 429) {
            m_app_pacer.pause_until(m_clock.now_ms() + bulk.call.retry_after_ms.value_or(1'000));
        }
        for (std::size_t k = at; k < end; ++k) {
            const std::size_t i = members[k];
            record(i, bulk.call);
            readings[i].not_an_identifier = bulk.not_an_identifier;
            if (bulk.call.outcome == cio::Outcome::success) {
                readings[i].found = bulk.cio_ids[k - at];
            }
        }
        done({members.begin() + static_cast<long>(at), members.begin() + static_cast<long>(end)});
    }
    for (std::size_t i : one_by_one) {
        if (!wait_for_app()) {
            return false;
        }
        cio::Lookup found = app.find(target_of(batch[i]));
        record(i, found.call);
        readings[i].not_an_identifier = found.not_an_identifier;
        if (found.call.outcome == cio::Outcome::success) {
            readings[i].found = std::move(found.cio_ids);
        }
        done({i});
    }
    return true;
}

bool Worker::read_profiles(VerifyApi& app, const std::vector<store::ClaimedErasure>& batch,
                           std::vector<Reading>& readings, std::vector<std::string>& still) {
    // Every erased profile of the batch, and which erasures each belongs to.
    std::vector<std::string> ids;
    std::vector<std::vector<std::size_t>> owners;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        for (const auto& id : batch[i].profiles) {
            auto at = std::find(ids.begin(), ids.end(), id);
            if (at == ids.end()) {
                ids.push_back(id);
                owners.emplace_back();
                at = std::prev(ids.end());
            }
            owners[static_cast<std::size_t>(at - ids.begin())].push_back(i);
        }
    }
    for (std::size_t at = 0; at < ids.size(); at += cio::k_max_bulk_values) {
        const std::size_t end = std::min(ids.size(), at + cio::k_max_bulk_values);
        if (!wait_for_app()) {
            return false;
        }
        cio::Lookup present = app.present(
            {ids.begin() + static_cast<long>(at), ids.begin() + static_cast<long>(end)});
        if (present.call.http_status == 429) {
            m_app_pacer.pause_until(m_clock.now_ms() + present.call.retry_after_ms.value_or(1'000));
        }
        std::vector<std::size_t> covered;
        for (std::size_t k = at; k < end; ++k) {
            for (std::size_t i : owners[k]) {
                if (std::find(covered.begin(), covered.end(), i) == covered.end()) {
                    covered.push_back(i);
                }
            }
        }
        for (std::size_t i : covered) {
            readings[i].calls.push_back(to_record(present.call, erasure::Step::verify, "cio_id"));
            if (!readings[i].failed()) {
                readings[i].result = present.call;
            }
        }
        if (present.call.outcome == cio::Outcome::success) {
            still.insert(still.end(), present.cio_ids.begin(), present.cio_ids.end());
        }
    }
    return true;
}

void Worker::resolve_batch(VerifyApi& app, std::vector<store::ClaimedErasure> batch) {
    std::vector<Reading> readings(batch.size());
    for (auto& r : readings) {
        r.result.outcome = cio::Outcome::success;
    }
    std::vector<bool> handled(batch.size(), false);
    // Each read's erasures go on to the slots as soon as it returns: the first ones start while
    // the App API reads the rest.
    bool pinned = true;
    auto hand_on = [&](const std::vector<std::size_t>& positions) {
        // The first read may go while the pin check runs; its answer waits for the pin.
        pinned = pinned && wait_for_pin();
        if (!pinned) {
            return;
        }
        for (std::size_t i : positions) {
            handled[i] = true;
            finish_resolve(batch[i], readings[i]);
        }
    };
    if (!read_identifiers(app, batch, erasure::Step::resolve, readings, hand_on) || !pinned) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (!handled[i]) {
                give_back(batch[i]);
            }
        }
    }
}

void Worker::finish_resolve(store::ClaimedErasure& e, Reading& r) {
    StepResult sr;
    sr.result = r.result;
    sr.facts.verified = true;
    sr.facts.calls = std::move(r.calls);
    if (r.not_an_identifier) {
        sr.result.outcome = cio::Outcome::permanent;
        sr.result.error = target_of(e).id_type + " is not an identifier of this workspace";
        sr.facts.calls.back().outcome = erasure::Outcome::permanent;
        sr.facts.calls.back().error = sr.result.error;
    }
    sr.outcome = lifecycle_outcome(sr.result);
    if (sr.outcome == erasure::Outcome::success) {
        sr.facts.found = std::move(r.found);
    }
    if (handle(e, erasure::Step::resolve, sr, true)) {
        pass_on(std::move(e));
    }
}

bool Worker::read_at_once(VerifyApi& app,
                          const std::vector<std::function<bool(VerifyApi&)>>& reads) {
    while (m_app_extra.size() + 1 < reads.size()) {
        m_app_extra.push_back(m_verify_factory());
    }
    std::vector<char> finished(reads.size(), 0);
    std::vector<std::exception_ptr> failures(reads.size());
    auto run = [&](std::size_t k, VerifyApi& client) {
        try {
            finished[k] = reads[k](client) ? 1 : 0;
        } catch (...) {
            failures[k] = std::current_exception();
        }
    };
    std::vector<std::thread> threads;
    for (std::size_t k = 1; k < reads.size(); ++k) {
        threads.emplace_back([&, k] { run(k, *m_app_extra[k - 1]); });
    }
    if (!reads.empty()) {
        run(0, app);
    }
    for (auto& t : threads) {
        t.join();
    }
    for (const auto& failure : failures) {
        if (failure) {
            std::rethrow_exception(failure);
        }
    }
    return std::all_of(finished.begin(), finished.end(), [](char f) { return f != 0; });
}

void Worker::verify_batch(VerifyApi& app, std::vector<store::ClaimedErasure> batch) {
    std::vector<Reading> readings(batch.size());
    for (auto& r : readings) {
        r.result.outcome = cio::Outcome::success;
    }
    // The erased profiles and each identifier group are independent reads: they go at once, so
    // a verification takes one read's time, not the sum (this is the last step of a run).
    std::vector<Reading> by_identifier(batch.size());
    for (auto& r : by_identifier) {
        r.result.outcome = cio::Outcome::success;
    }
    std::vector<std::string> still_there;
    std::vector<std::function<bool(VerifyApi&)>> reads;
    reads.emplace_back(
        [&](VerifyApi& client) { return read_profiles(client, batch, readings, still_there); });
    const TypeGroups grouped = group_by_type(batch, erasure::Step::verify);
    for (const auto& [type, members] : grouped.groups) {
        // Groups have disjoint members: each writes only its own elements of by_identifier.
        reads.emplace_back([&, &type = type, &members = members](VerifyApi& client) {
            return read_group(client, batch, erasure::Step::verify, type, members, by_identifier,
                              {});
        });
    }
    if (!read_at_once(app, reads) || !wait_for_pin()) {
        for (const auto& e : batch) {
            give_back(e);
        }
        return;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        Reading& r = readings[i];
        Reading& id = by_identifier[i];
        r.calls.insert(r.calls.end(), id.calls.begin(), id.calls.end());
        if (!r.failed()) {
            r.result = id.result;
        }
        r.found = std::move(id.found);
        r.not_an_identifier = id.not_an_identifier;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        store::ClaimedErasure& e = batch[i];
        Reading& r = readings[i];
        StepResult sr;
        sr.result = r.result;
        sr.facts.verified = true;
        sr.facts.calls = std::move(r.calls);
        if (!r.failed()) {
            std::vector<std::string> still;
            for (const auto& id : e.profiles) {
                if (std::find(still_there.begin(), still_there.end(), id) != still_there.end()) {
                    still.push_back(id);
                }
            }
            // A profile found now that was not erased (re-created, or not yet visible to the
            // resolve) joins the list, so the next round erases it too.
            for (const auto& id : r.found) {
                if (std::find(still.begin(), still.end(), id) == still.end()) {
                    still.push_back(id);
                }
                if (std::find(e.profiles.begin(), e.profiles.end(), id) == e.profiles.end()) {
                    sr.facts.found.push_back(id);
                }
            }
            sr.facts.present = static_cast<std::int64_t>(still.size());
        }
        sr.outcome = r.failed()              ? lifecycle_outcome(sr.result)
                     : sr.facts.present == 0 ? erasure::Outcome::success
                                             : erasure::Outcome::still_present;
        if (handle(e, erasure::Step::verify, sr, true)) {
            pass_on(std::move(e));
        }
    }
}

void Worker::app_loop() {
    std::unique_ptr<VerifyApi> app = m_verify_factory();
    while (true) {
        {
            std::lock_guard lock(m_mutex);
            if (m_stop || m_no_more_work) {
                return;
            }
        }
        // Claim when the App API's next call may go, not before: what falls due meanwhile joins
        // the batch.
        if (!wait_for_app_turn()) {
            return;
        }
        {
            // Busy from before the claim: a drain run must not finish while a batch is leased.
            std::lock_guard lock(m_mutex);
            m_app_busy = true;
        }
        std::vector<store::ClaimedErasure> batch;
        try {
            batch = claim_app_batch();
        } catch (const std::exception& ex) {
            halt(HaltKind::database, std::string("database: ") + ex.what());
            std::lock_guard lock(m_mutex);
            m_app_busy = false;
            return;
        }
        if (batch.empty()) {
            // Woken by a hand-off from the slots, or looking again shortly.
            std::unique_lock lock(m_mutex);
            m_app_busy = false;
            m_cv.wait_for(lock, std::chrono::milliseconds(m_settings.once ? 20 : 500),
                          [&] { return m_stop || m_no_more_work; });
            continue;
        }
        const bool resolving = batch.front().state == erasure::ErasureState::pending;
        {
            std::lock_guard lock(m_mutex);
            m_app_held = batch;
            m_app_resolving = resolving;
        }
        try {
            batch = live_claims(std::move(batch));
            if (resolving) {
                resolve_batch(*app, std::move(batch));
            } else {
                verify_batch(*app, std::move(batch));
            }
        } catch (const std::exception& ex) {
            // The transaction rolled back: the erasures are as they were, their leases expire.
            halt(HaltKind::database, std::string("database: ") + ex.what());
        }
        {
            std::lock_guard lock(m_mutex);
            m_app_held.clear();
            m_app_resolving = false;
            m_app_busy = false;
        }
        m_cv.notify_all();
    }
}

bool Worker::wait_until(TimeMs t) {
    std::unique_lock lock(m_mutex);
    while (!m_stop) {
        TimeMs remaining = t - m_clock.now_ms();
        if (remaining <= 0) {
            return true;
        }
        m_cv.wait_for(lock, std::chrono::milliseconds(std::min<TimeMs>(remaining, 100)));
    }
    return false;
}

void Worker::slot_loop() {
    std::unique_ptr<ErasureApi> api = m_api_factory();
    std::unique_ptr<VerifyApi> app = m_verify_factory ? m_verify_factory() : nullptr;
    while (true) {
        store::ClaimedErasure r;
        {
            std::unique_lock lock(m_mutex);
            m_cv.wait(lock, [&] { return !m_ready.empty() || m_no_more_work; });
            if (m_ready.empty()) {
                return;
            }
            r = std::move(m_ready.front());
            m_ready.erase(m_ready.begin());
            if (m_stop) {
                lock.unlock();
                give_back(r);
                continue;
            }
            m_in_flight.push_back(r);
        }
        try {
            erase(*api, r, app.get());
        } catch (const std::exception& e) {
            // A database failure (disk full, I/O error): stop rather than lose track. The
            // transaction rolled back, so the request is as it was and its lease will expire.
            halt(HaltKind::database, std::string("database: ") + e.what());
        }
        {
            std::lock_guard lock(m_mutex);
            auto it = std::find_if(m_in_flight.begin(), m_in_flight.end(),
                                   [&](const auto& x) { return x.id == r.id; });
            if (it != m_in_flight.end()) {
                m_in_flight.erase(it);
            }
        }
        m_cv.notify_all();
    }
}

void Worker::lease_keeper_loop() {
    const TimeMs every = std::max<TimeMs>(m_settings.lease_ms / 3, 10);
    std::unique_lock lock(m_mutex);
    TimeMs next_renewal = m_clock.now_ms() + every;
    // Until the slots are done, not only until the scheduler stops: after --max or a stop
    // request the erasures in flight still run, and may wait out a long 429 pause.
    while (!m_slots_done) {
        // The condition variable wakes on every claim and completion; renew only when due.
        m_cv.wait_for(
            lock, std::chrono::milliseconds(std::max<TimeMs>(1, next_renewal - m_clock.now_ms())));
        if (m_slots_done || m_clock.now_ms() < next_renewal) {
            continue;
        }
        next_renewal = m_clock.now_ms() + every;
        std::vector<store::ClaimedErasure> claims = m_in_flight;
        claims.insert(claims.end(), m_resolved.begin(), m_resolved.end());
        claims.insert(claims.end(), m_app_held.begin(), m_app_held.end());
        lock.unlock();
        for (const auto& claim : claims) {
            try {
                m_queue.renew(claim, m_settings.lease_ms);
            } catch (const std::exception& e) {
                spdlog::warn("lease renewal failed: {}", e.what());
            }
        }
        lock.lock();
    }
}

void Worker::show_progress(std::int64_t total, TimeMs started_at) {
    auto r = report();
    std::int64_t finished = r.erased + r.dead + r.retries;
    double secs = std::max<double>(1e-3, (m_clock.now_ms() - started_at) / 1000.0);
    double rate = r.erased / secs;
    long eta = rate > 0 ? static_cast<long>((total - finished) / rate) : -1;
    std::fprintf(stderr, "\r\033[Kerased %lld/%lld  %.1f/s  ETA %s", (long long)r.erased,
                 (long long)total, rate, eta >= 0 ? (std::to_string(eta) + "s").c_str() : "?");
    std::fflush(stderr);
}

void Worker::scheduler_loop() {
    const TimeMs run_start = m_clock.now_ms();
    const std::int64_t total =
        m_settings.progress ? m_queue.outlook(m_settings.workspace, 0).due_now : 0;
    TimeMs last_progress = 0;
    TimeMs last_summary = run_start;
    while (!stopping()) {
        // With an App API, erasures start at their resolve: finish those before --max stops.
        if (budget_exhausted() && !(m_batching && started_work_left())) {
            std::lock_guard lock(m_mutex);
            m_report.stop_reason = "max";
            break;
        }
        {
            // Wait for a free slot.
            std::unique_lock lock(m_mutex);
            m_cv.wait(lock, [&] {
                return m_stop || static_cast<std::int64_t>(m_ready.size() + m_in_flight.size()) <
                                     m_settings.concurrency;
            });
        }
        if (!wait_until(m_pacer.next_start())) {
            break;
        }
        const TimeMs now = m_clock.now_ms();
        if (m_settings.progress && now - last_progress >= k_progress_interval_ms) {
            show_progress(total, run_start);
            last_progress = now;
        }
        if (!m_settings.once && now - last_summary >= k_summary_interval_ms) {
            auto r = report();
            spdlog::info("worker {}: {} erased, {} retries scheduled, {} dead so far",
                         m_settings.workspace, r.erased, r.retries, r.dead);
            last_summary = now;
        }
        // Before the first erasure call of the run, and whenever the credentials were re-read
        // since (the checker asks Customer.io only then): are they this workspace's?
        if (!pinned()) {
            if (stopping()) {
                break;
            }
            continue; // unreachable in service mode: pinned() waited; ask again
        }
        if (m_batching) {
            if (auto resolved = take_resolved()) {
                // Started when the App API thread claimed it for its resolve.
                m_pacer.started_at(now);
                std::lock_guard lock(m_mutex);
                m_ready.push_back(std::move(*resolved));
                m_cv.notify_all();
                continue;
            }
        }
        std::optional<store::ClaimedErasure> claimed;
        if (!m_batching) {
            claimed = with_database(
                [&] { return m_queue.claim(m_settings.workspace, m_settings.lease_ms); });
        } else if (!budget_exhausted()) {
            auto track = with_database([&] {
                return m_queue.claim_batch(
                    m_settings.workspace,
                    {erasure::ErasureState::resolved, erasure::ErasureState::suppressed}, 1,
                    m_settings.lease_ms);
            });
            if (!track.empty()) {
                claimed = std::move(track.front());
            }
        }
        if (claimed && !take_start()) {
            // Another workspace's worker used the last start of --max meanwhile.
            give_back(*claimed);
            std::lock_guard lock(m_mutex);
            m_report.stop_reason = "max";
            break;
        }
        if (claimed) {
            m_pacer.started_at(now);
            std::lock_guard lock(m_mutex);
            ++m_report.started;
            m_ready.push_back(std::move(*claimed));
            m_cv.notify_all();
            continue;
        }
        if (!idle_wait()) {
            break;
        }
    }
    if (m_settings.progress) {
        show_progress(total, run_start);
        std::fputs("\n", stderr);
    }
}

bool Worker::idle_wait() {
    bool busy;
    {
        std::lock_guard lock(m_mutex);
        busy = !m_ready.empty() || !m_in_flight.empty() || m_app_busy || !m_resolved.empty();
    }
    if (!m_settings.once) {
        // Until the poll interval has passed, or the App API thread resolved an erasure.
        const TimeMs until = m_clock.now_ms() + m_settings.poll_interval_ms;
        std::unique_lock lock(m_mutex);
        while (!m_stop && m_resolved.empty() && m_clock.now_ms() < until) {
            m_cv.wait_for(
                lock, std::chrono::milliseconds(std::min<TimeMs>(100, until - m_clock.now_ms())));
        }
        return true; // the scheduler loop notices a stop request itself
    }
    if (busy) {
        // In-flight erasures may schedule retries that fall due soon; look again shortly.
        std::unique_lock lock(m_mutex);
        m_cv.wait_for(lock, std::chrono::milliseconds(20));
        return true;
    }
    // Drain mode: keep going while a retry falls due within one poll interval, else finish.
    auto outlook = m_queue.outlook(m_settings.workspace, m_settings.poll_interval_ms);
    if (outlook.due_now > 0) {
        auto next = m_queue.outlook(m_settings.workspace, 0).next_attempt_at;
        TimeMs until = next ? std::min(*next, m_clock.now_ms() + m_settings.poll_interval_ms)
                            : m_clock.now_ms() + 10;
        if (m_batching) {
            // What is due may be the App API thread's (resolve, verify): do not spin meanwhile.
            until = std::max(until, m_clock.now_ms() + 20);
        }
        return wait_until(until);
    }
    std::lock_guard lock(m_mutex);
    m_report.stop_reason = "drained";
    return false;
}

bool Worker::take_start() {
    if (m_settings.budget != nullptr) {
        return m_settings.budget->take();
    }
    return m_settings.max_erasures <= 0 || report().started < m_settings.max_erasures;
}

bool Worker::budget_exhausted() {
    if (m_settings.budget != nullptr) {
        return m_settings.budget->exhausted();
    }
    return m_settings.max_erasures > 0 && report().started >= m_settings.max_erasures;
}

WorkerReport Worker::run() {
    try {
        const std::string started = JsonWriter()
                                        .field("worker", m_queue.owner())
                                        .field("workspace", m_settings.workspace)
                                        .field("mode", m_settings.once ? "once" : "service")
                                        .field("pacing_ms", m_settings.pacing_ms)
                                        .field("concurrency", m_settings.concurrency)
                                        .field("max_attempts", m_settings.retry.max_attempts)
                                        .str();
        with_database([&] {
            m_queue.audit_event("worker.started", started);
            return 0;
        });
    } catch (const std::exception& e) {
        // A full disk before anything ran: a halt with its reason, not std::terminate in the
        // caller's thread.
        halt(HaltKind::database, std::string("database: ") + e.what());
        WorkerReport r = report();
        r.stop_reason = "halt";
        return r;
    }
    m_batching = m_verify_factory != nullptr;
    std::vector<std::thread> slots;
    for (std::int64_t i = 0; i < m_settings.concurrency; ++i) {
        slots.emplace_back([this] { slot_loop(); });
    }
    std::thread keeper([this] { lease_keeper_loop(); });
    std::thread app;
    if (m_batching) {
        app = std::thread([this] { app_loop(); });
    }

    try {
        scheduler_loop();
    } catch (const std::exception& e) {
        // A database failure while claiming (disk full, a lock held past the busy timeout):
        // stop cleanly, so the slots and the lease keeper are joined, not torn down by
        // std::terminate, and the run ends with its worker.halted entry.
        halt(HaltKind::database, std::string("database: ") + e.what());
    }
    {
        std::lock_guard lock(m_mutex);
        m_no_more_work = true;
        if (m_report.stop_reason.empty()) {
            m_report.stop_reason = m_report.halted ? "halt" : "signal";
        }
    }
    m_cv.notify_all();
    if (app.joinable()) {
        app.join();
    }
    for (auto& t : slots) {
        t.join();
    }
    // Resolved, but the run ended before a slot took them: back to the queue, uncharged.
    std::vector<store::ClaimedErasure> left;
    {
        std::lock_guard lock(m_mutex);
        left.swap(m_resolved);
    }
    for (const auto& e : left) {
        give_back(e);
    }
    {
        std::lock_guard lock(m_mutex);
        m_slots_done = true;
    }
    m_cv.notify_all();
    keeper.join();

    WorkerReport r = report();
    try {
        r.outlook = m_queue.outlook(m_settings.workspace, 0);
    } catch (const std::exception& e) {
        spdlog::warn("queue outlook unavailable: {}", e.what());
    }
    JsonWriter detail;
    detail.field("worker", m_queue.owner())
        .field("workspace", m_settings.workspace)
        .field("reason", r.halted ? std::string("halt") : r.stop_reason)
        .field("erased", r.erased)
        .field("retries", r.retries)
        .field("dead", r.dead)
        .field("released", r.released);
    if (r.halted) {
        detail.field("halt_reason", r.halt_evidence);
    }
    try {
        with_database([&] {
            m_queue.audit_event(r.halted ? "worker.halted" : "worker.stopped", detail.str());
            return 0;
        });
    } catch (const std::exception& e) {
        // The disk that failed the run may fail its last entry too: the caller still gets the
        // report and the reason, and the missing entry is said.
        spdlog::error("workspace {}: the {} entry is not in the audit log: database: {}",
                      m_settings.workspace, r.halted ? "worker.halted" : "worker.stopped",
                      e.what());
        if (!r.halted) {
            r.halted = true;
            r.halt = HaltKind::database;
            r.halt_reason = std::string("database: ") + e.what();
            r.stop_reason = "halt";
        }
    }
    return r;
}

} // namespace lethe::worker
