#include "sandbox/api_handler.hpp"

#include "sandbox/api_target.hpp"
#include "sandbox/calls.hpp"
#include "sandbox/responses.hpp"

#include <chrono>

namespace lethe::sandbox {
namespace {

using Steady = std::chrono::steady_clock;

// One API request on its way through the checks.
struct Call {
    Context& ctx;
    const httplib::Request& req;
    httplib::Response& res;
    ApiTarget target;
    CallRecord record;
    std::size_t workspace = 0; // index; meaningful once record.auth_valid
    FaultConfig faults;        // the workspace's (the first one's before auth)
    bool faults_apply = false; // the faults' scope covers this API
    PreparedCall prepared;
    Steady::time_point started = Steady::now();

    Workspace& ws() const { return *ctx.workspaces[workspace]; }
};

const char* reason(int status) {
    switch (status) {
    case 429:
        return "Too many requests";
    case 500:
        return "Internal server error";
    case 502:
        return "Bad gateway";
    case 503:
        return "Service unavailable";
    default:
        return "Error";
    }
}

void stamp_latency(Call& c) {
    c.record.latency_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - c.started).count();
}

// Logs a call that leaves the state alone, then sends `body`.
void answer(Call& c, int status, const nlohmann::json& body, const std::string& fault = {}) {
    c.record.status = status;
    c.record.fault = fault;
    stamp_latency(c);
    c.record = c.ctx.state.record(c.record);
    send_json(c.res, status, body);
    c.ctx.access_log.api(c.record);
}

// Finds the workspace whose credentials the request carries: Basic site_id:track_api_key for
// the Track API, Bearer app_api_key for the App API. A key of another workspace simply is that
// other workspace, as on Customer.io.
void authenticate(Call& c) {
    std::string authorization = c.req.get_header_value("Authorization");
    const std::string* header = c.req.has_header("Authorization") ? &authorization : nullptr;
    c.record.auth_present = header != nullptr;
    for (std::size_t i = 0; i < c.ctx.workspaces.size(); ++i) {
        const Workspace& w = *c.ctx.workspaces[i];
        AuthCheck check =
            c.target.api == Api::app ? w.app_keys.check(header) : w.track_credentials.check(header);
        if (check.valid && !c.record.auth_valid) {
            c.record.auth_valid = true;
            c.workspace = i;
            c.record.workspace = w.settings.name;
        }
    }
    c.faults = c.ws().faults.config();
    bool app = c.target.api == Api::app;
    c.faults_apply = c.faults.api == FaultScope::both || (c.faults.api == FaultScope::app) == app;
}

bool redirected(Call& c) {
    if (c.faults.redirect_to.empty()) {
        return false;
    }
    std::string base = c.faults.redirect_to;
    while (!base.empty() && base.back() == '/') {
        base.pop_back();
    }
    // The raw target, still percent-encoded as the client sent it.
    c.res.set_header("Location", base + c.req.target);
    answer(c, 307, nlohmann::json::object(), "redirect");
    return true;
}

// Auth first, as Customer.io does: an unauthenticated caller learns nothing about paths.
bool rejected(Call& c) {
    if (!c.record.auth_valid) {
        answer(c, 401, meta_error("Unauthorized request"));
        return true;
    }
    if (c.target.call == CallKind::unknown) {
        answer(c, 404, meta_error("Not found"));
        return true;
    }
    if (!c.target.error.empty()) {
        answer(c, 400, meta_error(c.target.error));
        return true;
    }
    if (auto refused = prepare_call(c.target, c.req.body, c.ws().settings.rules, c.prepared)) {
        answer(c, refused->status, refused->body);
        return true;
    }
    if (c.target.api == Api::track_v2 && c.prepared.who) {
        c.record.call = c.prepared.call; // an entity call is logged as what it does
        c.record.identifier = c.prepared.who->value;
    }
    return false;
}

// The App API's own limit: 10 requests per second and workspace.
bool rate_limited(Call& c) {
    if (c.target.api != Api::app || c.ws().app_rate.admit(c.ctx.clock.now_ms())) {
        return false;
    }
    answer(c, 429, meta_error("Too many requests"), "app_rate_limit");
    return true;
}

// Performs the call under the state lock and logs it; the answer is sent, or dropped after
// the effect when `drop` (a reset: the client cannot know that the call took effect).
void perform(Call& c, bool drop) {
    stamp_latency(c);
    ExecContext exec{c.ws().settings, c.ctx.own_url, c.record.time_ms,
                     c.ctx.state.visibility_delay_ms(), c.faults.destroy_missing_404};
    Answer out;
    c.record = c.ctx.state.apply(c.workspace, c.record, [&](Profiles& p, CallRecord& r) {
        out = execute_call(c.prepared, p, r, exec);
        r.status = drop ? 0 : out.status;
    });
    if (drop) {
        drop_connection(c.res, "{");
    } else {
        send_json(c.res, out.status, out.body);
    }
    c.ctx.access_log.api(c.record);
}

// Customer.io's error texts may quote what they were sent, in whatever encoding: the rule's
// answer quotes the identifier percent-encoded and as HTML entities, so tests can show that
// none of it reaches lethe's records.
std::string status_rule_message(const std::optional<std::string>& identifier) {
    std::string message = "sandbox: a --status-for rule matched";
    if (!identifier) {
        return message;
    }
    std::string percent;
    std::string entities;
    for (char ch : *identifier) {
        if (ch == '@') {
            percent += "%40";
            entities += "&#64;";
        } else {
            percent += ch;
            entities += ch;
        }
    }
    return message + " for " + percent + " (" + entities + ")";
}

void hang(Call& c) {
    c.record.fault = "hang";
    stamp_latency(c);
    c.record = c.ctx.state.record(c.record);
    c.ctx.access_log.api(c.record);
    c.ctx.stop.sleep_ms(c.faults.hang_ms);
    drop_connection(c.res, {});
}

bool faulted(Call& c) {
    auto decision = c.ws().faults.decide(c.record.identifier, c.record.time_ms);
    switch (decision.kind) {
    case FaultKind::none:
        return false;
    case FaultKind::status_rule:
        answer(c, decision.status, meta_errors(status_rule_message(c.record.identifier)),
               decision.label());
        return true;
    case FaultKind::hang:
        hang(c);
        return true;
    case FaultKind::reset:
        c.record.fault = "reset";
        perform(c, /*drop=*/true);
        return true;
    case FaultKind::http_status:
        if (decision.retry_after) {
            c.res.set_header("Retry-After", *decision.retry_after);
        }
        answer(c, decision.status, meta_error(reason(decision.status)), decision.label());
        return true;
    }
    return false;
}

void handle(Context& ctx, const httplib::Request& req, httplib::Response& res) {
    InFlight::Guard guard(ctx.in_flight);
    Call c{ctx, req, res, parse_api_target(req.method, req.target), {}, 0, {}, false, {}};
    c.record.time_ms = ctx.clock.now_ms();
    c.record.method = req.method;
    c.record.api = c.target.api;
    c.record.call = c.target.call;
    c.record.identifier = c.target.identifier;
    authenticate(c);

    if (c.faults_apply) {
        ctx.stop.sleep_ms(c.faults.latency_ms);
        if (redirected(c)) {
            return;
        }
    }
    if (rejected(c) || rate_limited(c) || (c.faults_apply && faulted(c))) {
        return;
    }
    perform(c, /*drop=*/false);
}

} // namespace

void register_api_routes(httplib::Server& server, Context& ctx) {
    // Routing happens on the raw target in parse_api_target (httplib's req.path is already
    // decoded, so "a%2Fb" and "a/b" would look alike); these patterns only catch everything.
    auto handler = [&ctx](const httplib::Request& req, httplib::Response& res) {
        handle(ctx, req, res);
    };
    for (const char* pattern : {R"(/api/[\s\S]*)", R"(/v1/[\s\S]*)", R"(/v1)"}) {
        server.Get(pattern, handler);
        server.Post(pattern, handler);
        server.Put(pattern, handler);
        server.Delete(pattern, handler);
        server.Patch(pattern, handler);
    }
}

} // namespace lethe::sandbox
