#include "sandbox/state.hpp"

#include "util/time.hpp"

#include <stdexcept>
#include <vector>

namespace lethe::sandbox {
namespace {

struct SeedEntry {
    std::string id;
    nlohmann::json attributes;
};

std::vector<SeedEntry> parse_seed(const nlohmann::json& body) {
    const nlohmann::json& list =
        body.is_object() && body.contains("people") ? body["people"] : body;
    if (!list.is_array()) {
        throw std::invalid_argument("people: expected {\"people\": [...]} or an array");
    }
    std::vector<SeedEntry> out;
    for (const auto& item : list) {
        if (item.is_string()) {
            out.push_back({item.get<std::string>(), nlohmann::json::object()});
        } else if (item.is_object() && item.contains("id") && item["id"].is_string()) {
            auto attributes = item.value("attributes", nlohmann::json::object());
            if (!attributes.is_object()) {
                throw std::invalid_argument("people: 'attributes' must be an object");
            }
            out.push_back({item["id"].get<std::string>(), attributes});
        } else {
            throw std::invalid_argument(
                "people: each entry is an id string or {\"id\": ..., \"attributes\": {...}}");
        }
        if (out.back().id.empty()) {
            throw std::invalid_argument("people: an id is empty");
        }
    }
    return out;
}

} // namespace

CallRecord State::apply(CallRecord record, const nlohmann::json& attributes, ApplyOptions options) {
    std::lock_guard lock(m_mutex);
    perform(record, attributes, options);
    if (options.drop_response) {
        record.status = 0;
    }
    return log_locked(std::move(record));
}

CallRecord State::record(CallRecord record) {
    std::lock_guard lock(m_mutex);
    return log_locked(std::move(record));
}

void State::perform(CallRecord& record, const nlohmann::json& attributes, ApplyOptions options) {
    record.status = 200;
    record.applied = true;
    if (!record.identifier) {
        return; // region: nothing to change
    }
    const std::string& id = *record.identifier;
    switch (record.call) {
    case CallKind::identify:
        // Customer.io answers 200 but ignores identifies of suppressed identifiers.
        record.applied = m_suppressed.count(id) == 0;
        if (record.applied) {
            upsert(id, attributes, record.time_ms);
        }
        break;
    case CallKind::suppress:
        m_people.erase(id);
        m_suppressed.insert(id);
        break;
    case CallKind::unsuppress:
        m_suppressed.erase(id);
        break;
    case CallKind::destroy:
        if (m_people.erase(id) == 0 && options.destroy_missing_404) {
            record.status = 404;
            record.applied = false;
        }
        break;
    case CallKind::region:
    case CallKind::unknown:
        break;
    }
}

void State::upsert(const std::string& id, const nlohmann::json& attributes, TimeMs now) {
    auto [it, inserted] = m_people.try_emplace(id);
    if (inserted) {
        it->second.created_ms = now;
    }
    it->second.updated_ms = now;
    if (attributes.is_object()) {
        it->second.attributes.update(attributes);
    }
}

CallRecord State::log_locked(CallRecord record) {
    ++m_counters.requests;
    ++m_counters.by_call[call_name(record.call)];
    ++m_counters.by_status[std::to_string(record.status)];
    if (!record.fault.empty()) {
        ++m_counters.by_fault[record.fault];
    }
    record.seq = m_log.append(record);
    return record;
}

SeedResult State::seed_people(const nlohmann::json& body, TimeMs now) {
    auto entries = parse_seed(body);
    std::lock_guard lock(m_mutex);
    SeedResult result;
    for (const auto& entry : entries) {
        if (m_suppressed.count(entry.id) != 0) {
            ++result.skipped_suppressed;
            continue;
        }
        upsert(entry.id, entry.attributes, now);
        ++result.added;
    }
    return result;
}

void State::reset() {
    std::lock_guard lock(m_mutex);
    m_people.clear();
    m_suppressed.clear();
    m_counters = {};
    m_log.clear();
}

nlohmann::json State::to_json(const StateQuery& query) const {
    std::lock_guard lock(m_mutex);
    nlohmann::json out;
    if (query.people) {
        nlohmann::json people = nlohmann::json::object();
        for (const auto& [id, p] : m_people) {
            people[id] = {{"attributes", p.attributes},
                          {"created_at", format_iso8601_ms(p.created_ms)},
                          {"updated_at", format_iso8601_ms(p.updated_ms)}};
        }
        out["people"] = std::move(people);
    }
    out["people_count"] = m_people.size();
    out["suppressed"] = m_suppressed;
    out["counters"] = {{"requests", m_counters.requests},
                       {"by_call", m_counters.by_call},
                       {"by_status", m_counters.by_status},
                       {"by_fault", m_counters.by_fault}};
    if (query.log) {
        out["log"] = m_log.to_json(query.since);
    }
    out["log_dropped"] = m_log.dropped();
    return out;
}

} // namespace lethe::sandbox
