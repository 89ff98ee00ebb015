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

// The workspace a body's "workspace" member names; the first one when it names none.
std::size_t workspace_of(const Context& ctx, const nlohmann::json& body) {
    if (!body.is_object() || !body.contains("workspace")) {
        return 0;
    }
    const auto& name = body["workspace"];
    auto index = name.is_string() ? ctx.find(name.get<std::string>()) : std::nullopt;
    if (!index) {
        throw std::invalid_argument("no such workspace");
    }
    return *index;
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
    for (const auto& w : ctx.workspaces) {
        auto& entry = out["workspaces"][w->settings.name];
        entry["faults"] = to_json(w->faults.config());
        entry["credentials_accepted"] = w->track_credentials.size();
        entry["app_keys_accepted"] = w->app_keys.size();
        entry["identify_by"] = identify_by_name(w->settings.rules.identify_by);
        entry["phone_identifier"] = w->settings.rules.phone_identifier;
    }
    out["faults"] = to_json(ctx.workspaces.front()->faults.config());
    out["credentials_accepted"] = ctx.workspaces.front()->track_credentials.size();
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

std::vector<std::string> app_keys_from(const nlohmann::json& value) {
    std::vector<std::string> keys;
    for (const auto& item : value.is_array() ? value : nlohmann::json::array({value})) {
        if (!item.is_string() || item.get<std::string>().empty()) {
            throw std::invalid_argument("credentials: app_api_key is a key or a list of keys");
        }
        keys.push_back(item.get<std::string>());
    }
    return keys;
}

nlohmann::json post_credentials(Context& ctx, const httplib::Request& req) {
    auto body = parse_body(req);
    Workspace& w = *ctx.workspaces[workspace_of(ctx, body)];
    if (body.contains("app_api_key") && !body.contains("api_key")) {
        auto keys = app_keys_from(body["app_api_key"]);
        w.app_keys.replace(keys);
        return {{"app_keys_accepted", keys.size()}};
    }
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
    if (body.contains("app_api_key")) {
        w.app_keys.replace(app_keys_from(body["app_api_key"]));
    }
    w.track_credentials.replace(accepted);
    return {{"accepted", accepted.size()}}; // never echo a key
}

nlohmann::json post_faults(Context& ctx, const httplib::Request& req) {
    auto body = parse_body(req);
    if (body.is_object() && body.contains("workspace")) {
        Workspace& w = *ctx.workspaces[workspace_of(ctx, body)];
        body.erase("workspace");
        w.faults.update(body);
        return to_json(w.faults.config());
    }
    // Every workspace, all or nothing: check the patch on a copy of each first.
    for (const auto& w : ctx.workspaces) {
        FaultInjector probe(w->faults.config());
        probe.update(body);
    }
    for (const auto& w : ctx.workspaces) {
        w->faults.update(body);
    }
    return to_json(ctx.workspaces.front()->faults.config());
}

// A seed entry: a person object, or a string read by the workspace's path rules (an e-mail
// where e-mails identify people, else an id).
ProfileSpec seed_entry(const nlohmann::json& item, const IdentifierRules& rules,
                       const std::string& where) {
    if (!item.is_string()) {
        return parse_person(item, where);
    }
    TypedId who = read_path_value(item.get<std::string>(), rules);
    if (who.kind == IdKind::cio_id) {
        throw std::invalid_argument(where + ": a cio_id is assigned, give an object with id or "
                                            "email and \"cio_id\"");
    }
    ProfileSpec spec;
    (who.kind == IdKind::email ? spec.email : spec.id) = who.value;
    return spec;
}

nlohmann::json post_people(Context& ctx, const httplib::Request& req) {
    auto body = parse_body(req);
    std::size_t index = workspace_of(ctx, body);
    const nlohmann::json& list =
        body.is_object() && body.contains("people") ? body["people"] : body;
    if (!list.is_array()) {
        throw std::invalid_argument("people: expected {\"people\": [...]} or an array");
    }
    const IdentifierRules& rules = ctx.workspaces[index]->settings.rules;
    std::vector<ProfileSpec> people;
    for (std::size_t i = 0; i < list.size(); ++i) {
        people.push_back(seed_entry(list[i], rules, "people[" + std::to_string(i) + "]"));
    }
    bool ignore_blocks = body.is_object() && body.value("ignore_blocks", false);
    auto result = ctx.state.seed(index, people, ctx.clock.now_ms(), ignore_blocks);
    return {{"added", result.added}, {"skipped_blocked", result.skipped_blocked}};
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
    server.Get("/_sandbox/faults", wrap(ctx, [](Context& c, const httplib::Request& req) {
                   nlohmann::json selector = nlohmann::json::object();
                   if (req.has_param("workspace")) {
                       selector["workspace"] = req.get_param_value("workspace");
                   }
                   return to_json(c.workspaces[workspace_of(c, selector)]->faults.config());
               }));
    server.Post("/_sandbox/faults", wrap(ctx, post_faults));
    server.Post("/_sandbox/credentials", wrap(ctx, post_credentials));
    server.Post("/_sandbox/reset", wrap(ctx, post_reset));
    server.Post("/_sandbox/people", wrap(ctx, post_people));
}

} // namespace lethe::sandbox
