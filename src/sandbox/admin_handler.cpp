#include "sandbox/admin_handler.hpp"

#include "net/listen_address.hpp"
#include "sandbox/responses.hpp"
#include "util/strings.hpp"

#include <functional>
#include <stdexcept>

namespace lethe::sandbox {
namespace {

// An admin action: reads the request, returns the JSON answer; std::invalid_argument → 400.
using Action = std::function<nlohmann::json(Context&, const httplib::Request&)>;

bool from_loopback(const std::string& remote) {
    constexpr std::string_view k_mapped = "::ffff:";
    std::string host = remote.rfind(k_mapped, 0) == 0 ? remote.substr(k_mapped.size()) : remote;
    return host.empty() || net::is_loopback_host(host);
}

nlohmann::json parse_body(const httplib::Request& req) {
    if (req.body.empty()) {
        return nlohmann::json::object();
    }
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded()) {
        throw std::invalid_argument("the body is not JSON");
    }
    return body;
}

bool flag_param(const httplib::Request& req, const char* name) {
    return !req.has_param(name) || req.get_param_value(name) != "0";
}

nlohmann::json get_state(Context& ctx, const httplib::Request& req) {
    StateQuery query;
    query.people = flag_param(req, "people");
    query.log = flag_param(req, "log");
    if (req.has_param("since")) {
        auto since = parse_int64(req.get_param_value("since"));
        if (!since) {
            throw std::invalid_argument("since must be a sequence number");
        }
        query.since = static_cast<std::uint64_t>(*since);
    }
    auto out = ctx.state.to_json(query);
    out["faults"] = to_json(ctx.faults.config());
    out["credentials_accepted"] = ctx.credentials.size();
    return out;
}

Credential credential_from(const nlohmann::json& item, const std::string& site_id) {
    if (item.is_string()) {
        return {site_id, item.get<std::string>()};
    }
    if (item.is_object() && item.contains("api_key") && item["api_key"].is_string()) {
        return {item.value("site_id", site_id), item["api_key"].get<std::string>()};
    }
    throw std::invalid_argument("credentials: also_accept entries are keys or "
                                "{\"site_id\", \"api_key\"} objects");
}

nlohmann::json post_credentials(Context& ctx, const httplib::Request& req) {
    auto body = parse_body(req);
    if (!body.contains("site_id") || !body["site_id"].is_string() || !body.contains("api_key") ||
        !body["api_key"].is_string()) {
        throw std::invalid_argument("credentials: need {\"site_id\": ..., \"api_key\": ...}");
    }
    std::string site_id = body["site_id"].get<std::string>();
    std::vector<Credential> accepted = {{site_id, body["api_key"].get<std::string>()}};
    for (const auto& item : body.value("also_accept", nlohmann::json::array())) {
        accepted.push_back(credential_from(item, site_id));
    }
    for (const auto& c : accepted) {
        if (c.site_id.empty() || c.api_key.empty()) {
            throw std::invalid_argument("credentials: site_id and api_key must not be empty");
        }
    }
    ctx.credentials.replace(accepted);
    return {{"accepted", accepted.size()}}; // never echo a key
}

nlohmann::json post_faults(Context& ctx, const httplib::Request& req) {
    ctx.faults.update(parse_body(req));
    return to_json(ctx.faults.config());
}

nlohmann::json post_people(Context& ctx, const httplib::Request& req) {
    auto result = ctx.state.seed_people(parse_body(req), ctx.clock.now_ms());
    return {{"added", result.added}, {"skipped_suppressed", result.skipped_suppressed}};
}

nlohmann::json post_reset(Context& ctx, const httplib::Request&) {
    ctx.state.reset();
    return nlohmann::json::object();
}

httplib::Server::Handler wrap(Context& ctx, Action action) {
    return [&ctx, action = std::move(action)](const httplib::Request& req, httplib::Response& res) {
        InFlight::Guard guard(ctx.in_flight);
        if (!from_loopback(req.remote_addr)) {
            send_json(res, 403, {{"error", "admin endpoints answer loopback clients only"}});
        } else {
            try {
                send_json(res, 200, action(ctx, req));
            } catch (const std::invalid_argument& e) {
                send_json(res, 400, {{"error", e.what()}});
            }
        }
        ctx.access_log.admin(req.method, req.path, res.status);
    };
}

} // namespace

void register_admin_routes(httplib::Server& server, Context& ctx) {
    server.Get("/_sandbox/state", wrap(ctx, get_state));
    server.Get("/_sandbox/faults", wrap(ctx, [](Context& c, const httplib::Request&) {
                   return to_json(c.faults.config());
               }));
    server.Post("/_sandbox/faults", wrap(ctx, post_faults));
    server.Post("/_sandbox/credentials", wrap(ctx, post_credentials));
    server.Post("/_sandbox/reset", wrap(ctx, post_reset));
    server.Post("/_sandbox/people", wrap(ctx, post_people));
}

} // namespace lethe::sandbox
