#include "sandbox/workspace.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>

namespace lethe::sandbox {
namespace {

using Json = nlohmann::json;

[[noreturn]] void fail(const std::string& where, const std::string& reason) {
    throw std::invalid_argument(where + ": " + reason);
}

// Refuses members of `object` that are not in `known`, so a typo never passes silently.
void check_keys(const Json& object, const std::string& where, std::set<std::string> known) {
    if (!object.is_object()) {
        fail(where, "must be a JSON object");
    }
    for (const auto& [key, value] : object.items()) {
        if (known.count(key) == 0) {
            fail(where, "unknown member '" + key + "'");
        }
    }
}

std::string string_member(const Json& object, const char* key, const std::string& where,
                          bool required) {
    if (!object.contains(key)) {
        if (required) {
            fail(where, std::string("'") + key + "' is required");
        }
        return {};
    }
    if (!object[key].is_string() || (required && object[key].get<std::string>().empty())) {
        fail(where + "." + key, "must be a non-empty string");
    }
    return object[key].get<std::string>();
}

std::optional<std::string> optional_string(const Json& object, const char* key,
                                           const std::string& where) {
    if (!object.contains(key) || object[key].is_null()) {
        return std::nullopt;
    }
    if (!object[key].is_string()) {
        fail(where + "." + key, "must be a string");
    }
    return object[key].get<std::string>();
}

std::int64_t int_member(const Json& object, const char* key, const std::string& where,
                        std::int64_t fallback, std::int64_t min, std::int64_t max) {
    if (!object.contains(key)) {
        return fallback;
    }
    const Json& v = object[key];
    if (!v.is_number_integer() || v.get<std::int64_t>() < min || v.get<std::int64_t>() > max) {
        fail(where + "." + key,
             "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
    return v.get<std::int64_t>();
}

} // namespace

ProfileSpec parse_person(const Json& item, const std::string& where) {
    check_keys(item, where, {"id", "email", "phone", "cio_id", "attributes"});
    ProfileSpec spec;
    spec.id = optional_string(item, "id", where);
    spec.email = optional_string(item, "email", where);
    spec.phone = optional_string(item, "phone", where);
    spec.cio_id = optional_string(item, "cio_id", where);
    if (item.contains("attributes")) {
        if (!item["attributes"].is_object()) {
            fail(where + ".attributes", "must be an object");
        }
        spec.attributes = item["attributes"];
    }
    return spec;
}

namespace {

IdentifierRules parse_rules(const Json& ws, const std::string& where) {
    IdentifierRules rules;
    if (ws.contains("identify_by")) {
        auto by = ws["identify_by"].is_string()
                      ? parse_identify_by(ws["identify_by"].get<std::string>())
                      : std::nullopt;
        if (!by) {
            fail(where + ".identify_by", "must be \"email_or_id\" or \"id\"");
        }
        rules.identify_by = *by;
    }
    if (ws.contains("phone_identifier")) {
        if (!ws["phone_identifier"].is_boolean()) {
            fail(where + ".phone_identifier", "must be true or false");
        }
        rules.phone_identifier = ws["phone_identifier"].get<bool>();
    }
    return rules;
}

WorkspaceSettings parse_workspace(const Json& ws, const std::string& where) {
    check_keys(ws, where,
               {"name", "region", "site_id", "track_api_key", "app_api_key", "environment_id",
                "identify_by", "phone_identifier", "track_url", "people", "faults"});
    WorkspaceSettings s;
    s.name = string_member(ws, "name", where, true);
    if (!std::regex_match(s.name, std::regex("[a-z0-9-]{1,32}"))) {
        fail(where + ".name", "must be 1 to 32 of a-z, 0-9 and '-'");
    }
    s.region = ws.contains("region") ? string_member(ws, "region", where, true) : "us";
    if (s.region != "us" && s.region != "eu") {
        fail(where + ".region", "must be \"us\" or \"eu\"");
    }
    s.site_id = string_member(ws, "site_id", where, true);
    s.track_api_key = string_member(ws, "track_api_key", where, true);
    s.app_api_key = string_member(ws, "app_api_key", where, false);
    s.environment_id = int_member(ws, "environment_id", where, 1, 1, INT64_MAX);
    s.rules = parse_rules(ws, where);
    s.track_url = string_member(ws, "track_url", where, false);
    if (ws.contains("people")) {
        if (!ws["people"].is_array()) {
            fail(where + ".people", "must be an array");
        }
        for (std::size_t i = 0; i < ws["people"].size(); ++i) {
            s.people.push_back(
                parse_person(ws["people"][i], where + ".people[" + std::to_string(i) + "]"));
        }
    }
    if (ws.contains("faults")) {
        if (!ws["faults"].is_object()) {
            fail(where + ".faults", "must be an object (the POST /_sandbox/faults fields)");
        }
        s.faults = ws["faults"];
    }
    return s;
}

FaultInjector make_faults(const FaultConfig& base, const Json& patch, const std::string& name) {
    FaultConfig config = base;
    try {
        merge_json(config, patch);
    } catch (const std::invalid_argument& e) {
        fail("workspace " + name + ": faults", e.what());
    }
    if (auto problem = validate(config); !problem.empty()) {
        fail("workspace " + name + ": faults", problem);
    }
    return FaultInjector(std::move(config));
}

} // namespace

WorkspacesFile parse_workspaces(const Json& document) {
    check_keys(document, "the workspaces file",
               {"visibility_delay_ms", "app_rate_limit", "workspaces"});
    WorkspacesFile file;
    file.visibility_delay_ms =
        int_member(document, "visibility_delay_ms", "the workspaces file", 0, 0, 86'400'000);
    file.app_rate_limit = static_cast<int>(
        int_member(document, "app_rate_limit", "the workspaces file", 10, 0, 1'000'000));
    if (!document.contains("workspaces") || !document["workspaces"].is_array() ||
        document["workspaces"].empty()) {
        fail("workspaces", "must be a non-empty array");
    }
    const Json& list = document["workspaces"];
    for (std::size_t i = 0; i < list.size(); ++i) {
        file.workspaces.push_back(
            parse_workspace(list[i], "workspaces[" + std::to_string(i) + "]"));
    }
    check_distinct(file.workspaces);
    return file;
}

void check_distinct(const std::vector<WorkspaceSettings>& workspaces) {
    std::set<std::string> names;
    std::set<std::pair<std::string, std::string>> track;
    std::set<std::string> app;
    std::set<std::int64_t> environments;
    for (const auto& w : workspaces) {
        if (!names.insert(w.name).second) {
            fail("workspace " + w.name, "the name is used twice");
        }
        if (!track.insert({w.site_id, w.track_api_key}).second) {
            fail("workspace " + w.name, "its site_id and track_api_key belong to another one");
        }
        if (!w.app_api_key.empty() && !app.insert(w.app_api_key).second) {
            fail("workspace " + w.name, "its app_api_key belongs to another workspace");
        }
        if (!environments.insert(w.environment_id).second) {
            fail("workspace " + w.name, "its environment_id belongs to another workspace");
        }
    }
}

Workspace::Workspace(WorkspaceSettings s, const FaultConfig& base_faults, int app_rate_limit)
    : settings(std::move(s)), track_credentials({settings.site_id, settings.track_api_key}),
      app_keys(settings.app_api_key),
      faults(make_faults(base_faults, settings.faults, settings.name)), app_rate(app_rate_limit) {
}

} // namespace lethe::sandbox
