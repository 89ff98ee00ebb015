#include "sandbox/calls.hpp"

#include "sandbox/responses.hpp"

namespace lethe::sandbox {
namespace {

using Json = nlohmann::json;

Answer bad_request(const std::string& message) {
    return {400, meta_errors(message)};
}

std::optional<Json> parse_json(const std::string& body) {
    auto parsed = Json::parse(body, nullptr, false);
    if (parsed.is_discarded()) {
        return std::nullopt;
    }
    return parsed;
}

// The App API's view of one profile.
Json app_customer(const Profile& p) {
    Json identifiers = {{"cio_id", p.cio_id}};
    if (p.id) {
        identifiers["id"] = *p.id;
    }
    if (p.email) {
        identifiers["email"] = *p.email;
    }
    if (p.phone) {
        identifiers["phone"] = *p.phone;
    }
    Json out = to_json(p);
    out.erase("created_at");
    out.erase("updated_at");
    out["identifiers"] = std::move(identifiers);
    return out;
}

Json search_result(const Profile& p) {
    auto opt = [](const std::optional<std::string>& v) {
        return v ? Json(*v) : Json();
    };
    return {{"id", opt(p.id)}, {"email", opt(p.email)}, {"cio_id", p.cio_id}};
}

// The App API's ?id_type= (default id), checked against the workspace.
std::optional<Answer> app_id_type(const ApiTarget& target, const IdentifierRules& rules,
                                  IdKind& kind) {
    std::string name = target.id_type ? *target.id_type : "id";
    auto parsed = parse_kind(name);
    if (!parsed) {
        return bad_request("id_type must be id, email, phone or cio_id");
    }
    if (!is_identifier(*parsed, rules)) {
        return bad_request("id_type " + name + " is not an identifier in this workspace");
    }
    kind = *parsed;
    return std::nullopt;
}

std::optional<Answer> prepare_bulk(const ApiTarget& target, const std::string& body,
                                   const IdentifierRules& rules, PreparedCall& out) {
    IdKind kind = IdKind::id;
    if (auto refused = app_id_type(target, rules, kind)) {
        return refused;
    }
    auto json = parse_json(body);
    if (!json || !json->is_object() || !json->contains("ids") || !(*json)["ids"].is_array()) {
        return bad_request("the body must be {\"ids\": [...]}");
    }
    const Json& ids = (*json)["ids"];
    if (ids.empty() || ids.size() > k_max_bulk_ids) {
        return bad_request("ids must hold 1 to 100 values");
    }
    for (const auto& id : ids) {
        if (!id.is_string() || id.get<std::string>().empty()) {
            return bad_request("ids must be non-empty strings");
        }
        out.ids.push_back(id.get<std::string>());
    }
    out.who = TypedId{kind, {}};
    return std::nullopt;
}

// POST /v1/customers: the sandbox knows one filter, {"attribute": {"field": F, "operator":
// "eq", "value": V}} on id, email or phone, whether or not the field is an identifier.
std::optional<Answer> prepare_search(const std::string& body, PreparedCall& out) {
    auto json = parse_json(body);
    const Json* attribute = nullptr;
    if (json && json->is_object() && json->contains("filter") && (*json)["filter"].is_object()) {
        const Json& filter = (*json)["filter"];
        if (filter.size() == 1 && filter.contains("attribute") && filter["attribute"].is_object()) {
            attribute = &filter["attribute"];
        }
    }
    if (attribute == nullptr) {
        return bad_request("the body must be {\"filter\": {\"attribute\": {...}}}");
    }
    const Json field = attribute->value("field", Json());
    const Json value = attribute->value("value", Json());
    if (attribute->value("operator", Json()) != "eq" || !field.is_string() || !value.is_string()) {
        return bad_request("the sandbox searches one attribute with operator eq");
    }
    auto kind = parse_kind(field.get<std::string>());
    if (!kind || *kind == IdKind::cio_id) {
        return bad_request("the sandbox searches by id, email or phone");
    }
    out.who = TypedId{*kind, value.get<std::string>()};
    return std::nullopt;
}

std::optional<Answer> prepare_batch(const std::string& body, const IdentifierRules& rules,
                                    PreparedCall& out) {
    if (body.size() > k_max_batch_bytes) {
        return Answer{413, meta_error("a batch is at most 500 KB")};
    }
    auto json = parse_json(body);
    if (!json || !json->is_object() || !json->contains("batch") || !(*json)["batch"].is_array() ||
        (*json)["batch"].empty()) {
        return bad_request("the body must be {\"batch\": [operations...]}");
    }
    for (const auto& op : (*json)["batch"]) {
        out.operations.push_back(parse_v2_operation(op, rules));
    }
    return std::nullopt;
}

std::optional<Answer> prepare_entity(const std::string& body, const IdentifierRules& rules,
                                     PreparedCall& out) {
    if (body.size() > k_max_entity_bytes) {
        return Answer{413, meta_error("an entity request is at most 32 KB")};
    }
    auto json = parse_json(body);
    if (!json) {
        return bad_request("the body is not JSON");
    }
    V2Operation op = parse_v2_operation(*json, rules);
    if (!op.error.empty()) {
        return bad_request(op.error);
    }
    out.call = op.call;
    out.who = op.who;
    return std::nullopt;
}

Effect perform(CallKind call, const TypedId& who, Profiles& profiles, const Json& attributes,
               TimeMs now) {
    switch (call) {
    case CallKind::identify:
        return profiles.identify(who, attributes, now);
    case CallKind::suppress:
        return profiles.suppress(who, now);
    case CallKind::destroy:
        return profiles.destroy(who, now);
    case CallKind::unsuppress:
        return {0, profiles.unsuppress(who)};
    default:
        return {0, false};
    }
}

Answer execute_batch(const PreparedCall& call, Profiles& profiles, CallRecord& record, TimeMs now) {
    Json errors = Json::array();
    for (std::size_t i = 0; i < call.operations.size(); ++i) {
        const V2Operation& op = call.operations[i];
        if (!op.error.empty()) {
            errors.push_back({{"batch_index", i}, {"reason", "invalid"}, {"message", op.error}});
            continue;
        }
        record.matched += perform(op.call, op.who, profiles, Json(), now).matched;
    }
    record.applied = errors.size() < call.operations.size();
    if (errors.empty()) {
        return {};
    }
    return {207, {{"errors", errors}}};
}

Answer execute_app(const PreparedCall& call, const Profiles& profiles, CallRecord& record,
                   const ExecContext& ctx) {
    auto visible = [&](const TypedId& who) {
        return profiles.visible(who, ctx.now, ctx.visibility_delay_ms);
    };
    if (call.call == CallKind::find_by_email) {
        Json results = Json::array();
        for (const Profile* p : visible(*call.who)) {
            results.push_back(search_result(*p));
        }
        record.matched = results.size();
        return {200, {{"results", results}}};
    }
    if (call.call == CallKind::search) {
        Json identifiers = Json::array();
        Json ids = Json::array();
        for (const Profile* p : visible(*call.who)) {
            identifiers.push_back(app_customer(*p)["identifiers"]);
            ids.push_back(p->id ? Json(*p->id) : Json());
        }
        record.matched = identifiers.size();
        return {200, {{"identifiers", identifiers}, {"ids", ids}, {"next", ""}}};
    }
    if (call.call == CallKind::attributes) {
        auto found = visible(*call.who);
        record.matched = found.size();
        if (found.empty()) {
            return {404, meta_error("Customer not found")};
        }
        return {200, {{"customer", app_customer(*found.front())}}};
    }
    Json customers = Json::array();
    for (const auto& id : call.ids) {
        for (const Profile* p : visible({call.who->kind, id})) {
            customers.push_back(app_customer(*p));
        }
    }
    record.matched = customers.size();
    return {200, {{"customers", customers}}};
}

} // namespace

V2Operation parse_v2_operation(const Json& op, const IdentifierRules& rules) {
    V2Operation out;
    if (!op.is_object() || op.value("type", Json()) != "person") {
        out.error = "type must be \"person\"";
        return out;
    }
    Json action = op.value("action", Json());
    if (action == "suppress") {
        out.call = CallKind::suppress;
    } else if (action == "delete") {
        out.call = CallKind::destroy;
    } else {
        out.error = "action must be \"delete\" or \"suppress\"";
        return out;
    }
    Json identifiers = op.value("identifiers", Json());
    if (!identifiers.is_object() || identifiers.size() != 1) {
        out.error = "identifiers must hold exactly one of id, email, cio_id, phone";
        return out;
    }
    auto kind = parse_kind(identifiers.begin().key());
    const Json& value = identifiers.begin().value();
    if (!kind) {
        out.error = "identifiers must hold exactly one of id, email, cio_id, phone";
    } else if (!value.is_string() || value.get<std::string>().empty() ||
               value.get<std::string>().size() > k_max_identifier_bytes) {
        out.error = "the identifier must be a string of 1 to 150 bytes";
    } else if (!is_identifier(*kind, rules)) {
        out.error = std::string(kind_name(*kind)) + " is not an identifier in this workspace";
    } else {
        out.who = {*kind, value.get<std::string>()};
    }
    return out;
}

std::optional<Answer> prepare_call(const ApiTarget& target, const std::string& body,
                                   const IdentifierRules& rules, PreparedCall& out) {
    out.call = target.call;
    switch (target.call) {
    case CallKind::identify:
        out.who = read_path_value(*target.identifier, rules);
        if (!body.empty()) {
            auto json = parse_json(body);
            if (!json || !json->is_object()) {
                return bad_request("the body must be a JSON object of attributes");
            }
            out.attributes = std::move(*json);
        }
        return std::nullopt;
    case CallKind::suppress:
    case CallKind::unsuppress:
    case CallKind::destroy:
        out.who = read_path_value(*target.identifier, rules);
        return std::nullopt;
    case CallKind::entity:
        return prepare_entity(body, rules, out);
    case CallKind::batch:
        return prepare_batch(body, rules, out);
    case CallKind::find_by_email:
        out.who = TypedId{IdKind::email, *target.identifier};
        return std::nullopt;
    case CallKind::attributes: {
        IdKind kind = IdKind::id;
        if (auto refused = app_id_type(target, rules, kind)) {
            return refused;
        }
        out.who = TypedId{kind, *target.identifier};
        return std::nullopt;
    }
    case CallKind::bulk_attributes:
        return prepare_bulk(target, body, rules, out);
    case CallKind::search:
        return prepare_search(body, out);
    case CallKind::region:
    case CallKind::unknown:
        return std::nullopt;
    }
    return std::nullopt;
}

Answer execute_call(const PreparedCall& call, Profiles& profiles, CallRecord& record,
                    const ExecContext& ctx) {
    record.applied = true;
    if (call.who && call.call != CallKind::bulk_attributes) {
        record.id_type = call.who->kind;
    }
    switch (call.call) {
    case CallKind::region:
        return {200,
                {{"url", ctx.workspace.track_url.empty() ? ctx.own_url : ctx.workspace.track_url},
                 {"region", ctx.workspace.region},
                 {"environment_id", ctx.workspace.environment_id}}};
    case CallKind::batch:
        return execute_batch(call, profiles, record, ctx.now);
    case CallKind::find_by_email:
    case CallKind::attributes:
    case CallKind::bulk_attributes:
    case CallKind::search:
        return execute_app(call, profiles, record, ctx);
    default:
        break;
    }
    Effect effect;
    try {
        effect = perform(call.call, *call.who, profiles, call.attributes, ctx.now);
    } catch (const ProfileError& e) {
        record.applied = false;
        return bad_request(e.what());
    }
    record.applied = effect.applied;
    record.matched = effect.matched;
    if (call.call == CallKind::destroy && effect.matched == 0 && ctx.destroy_missing_404) {
        record.applied = false;
        return {404, meta_error("Customer not found")};
    }
    return {};
}

} // namespace lethe::sandbox
