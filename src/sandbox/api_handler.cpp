#include "sandbox/api_handler.hpp"

#include "sandbox/api_target.hpp"
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
    FaultConfig faults;
    ApiTarget target;
    CallRecord record;
    nlohmann::json attributes;
    Steady::time_point started = Steady::now();
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

bool parse_attributes(Call& c) {
    if (c.record.call != CallKind::identify || c.req.body.empty()) {
        return true;
    }
    c.attributes = nlohmann::json::parse(c.req.body, nullptr, false);
    return c.attributes.is_object();
}

// Auth first, as Customer.io does: an unauthenticated caller learns nothing about paths.
bool rejected(Call& c) {
    if (!c.record.auth_valid) {
        answer(c, 401, meta_error("Unauthorized request"));
    } else if (c.target.call == CallKind::unknown) {
        answer(c, 404, meta_error("Not found"));
    } else if (!c.target.error.empty()) {
        answer(c, 400, meta_error(c.target.error));
    } else if (!parse_attributes(c)) {
        answer(c, 400, meta_error("the body must be a JSON object of attributes"));
    } else {
        return false;
    }
    return true;
}

void hang(Call& c) {
    c.record.fault = "hang";
    stamp_latency(c);
    c.record = c.ctx.state.record(c.record);
    c.ctx.access_log.api(c.record);
    c.ctx.stop.sleep_ms(c.faults.hang_ms);
    drop_connection(c.res, {});
}

void reset(Call& c) {
    c.record.fault = "reset";
    stamp_latency(c);
    c.record = c.ctx.state.apply(c.record, c.attributes,
                                 {c.faults.destroy_missing_404, /*drop_response=*/true});
    drop_connection(c.res, "{");
    c.ctx.access_log.api(c.record);
}

bool faulted(Call& c) {
    auto decision = c.ctx.faults.decide(c.record.identifier, c.record.time_ms);
    switch (decision.kind) {
    case FaultKind::none:
        return false;
    case FaultKind::status_rule:
        answer(c, decision.status, meta_errors("sandbox: a --status-for rule matched"),
               decision.label());
        return true;
    case FaultKind::hang:
        hang(c);
        return true;
    case FaultKind::reset:
        reset(c);
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

void perform(Call& c) {
    stamp_latency(c);
    c.record = c.ctx.state.apply(c.record, c.attributes, {c.faults.destroy_missing_404, false});
    if (c.record.call == CallKind::region) {
        const RegionInfo& r = c.ctx.region;
        send_json(c.res, 200,
                  {{"url", r.url}, {"region", r.region}, {"environment_id", r.environment_id}});
    } else if (c.record.status == 404) {
        send_json(c.res, 404, meta_error("Customer not found"));
    } else {
        send_json(c.res, c.record.status, nlohmann::json::object());
    }
    c.ctx.access_log.api(c.record);
}

void handle(Context& ctx, const httplib::Request& req, httplib::Response& res) {
    InFlight::Guard guard(ctx.in_flight);
    Call c{ctx, req, res, ctx.faults.config(), parse_api_target(req.method, req.target), {}, {}};
    c.record.time_ms = ctx.clock.now_ms();
    c.record.method = req.method;
    c.record.call = c.target.call;
    c.record.identifier = c.target.identifier;
    std::string authorization = req.get_header_value("Authorization");
    auto auth = ctx.credentials.check(req.has_header("Authorization") ? &authorization : nullptr);
    c.record.auth_present = auth.present;
    c.record.auth_valid = auth.valid;

    ctx.stop.sleep_ms(c.faults.latency_ms);
    if (redirected(c) || rejected(c) || faulted(c)) {
        return;
    }
    perform(c);
}

} // namespace

void register_api_routes(httplib::Server& server, Context& ctx) {
    // Routing happens on the raw target in parse_api_target (httplib's req.path is already
    // decoded, so "a%2Fb" and "a/b" would look alike); these patterns only catch everything.
    const char* pattern = R"(/api/[\s\S]*)";
    auto handler = [&ctx](const httplib::Request& req, httplib::Response& res) {
        handle(ctx, req, res);
    };
    server.Get(pattern, handler);
    server.Post(pattern, handler);
    server.Put(pattern, handler);
    server.Delete(pattern, handler);
    server.Patch(pattern, handler);
}

} // namespace lethe::sandbox
