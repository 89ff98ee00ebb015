#include "sandbox/profiles.hpp"

#include "util/time.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace lethe::sandbox {
namespace {

const char* removal_name(Removal how) {
    return how == Removal::suppressed ? "suppress" : "destroy";
}

bool is_alnum_text(const std::string& s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
}

const std::optional<std::string>& field_of(const Profile& p, IdKind kind) {
    static const std::optional<std::string> k_none;
    switch (kind) {
    case IdKind::id:
        return p.id;
    case IdKind::email:
        return p.email;
    case IdKind::phone:
        return p.phone;
    case IdKind::cio_id:
        return k_none;
    }
    return k_none;
}

std::optional<std::string> string_attribute(const nlohmann::json& attributes, const char* name) {
    if (!attributes.is_object() || !attributes.contains(name) || !attributes[name].is_string()) {
        return std::nullopt;
    }
    return attributes[name].get<std::string>();
}

} // namespace

nlohmann::json to_json(const Profile& p) {
    auto opt = [](const std::optional<std::string>& v) {
        return v ? nlohmann::json(*v) : nlohmann::json();
    };
    return {{"cio_id", p.cio_id},
            {"id", opt(p.id)},
            {"email", opt(p.email)},
            {"phone", opt(p.phone)},
            {"attributes", p.attributes},
            {"created_at", format_iso8601_ms(p.created_ms)},
            {"updated_at", format_iso8601_ms(p.updated_ms)}};
}

Profiles::Profiles(IdentifierRules rules, std::string cio_prefix)
    : m_rules(rules), m_cio_prefix(std::move(cio_prefix)) {
}

bool Profiles::matches(const Profile& p, const TypedId& who) const {
    if (who.kind == IdKind::cio_id) {
        return p.cio_id == who.value;
    }
    const auto& field = field_of(p, who.kind);
    return field && match_form(who.kind, *field) == match_form(who.kind, who.value);
}

std::vector<const Profile*> Profiles::find(const TypedId& who) const {
    std::vector<const Profile*> out;
    for (const auto& [cio_id, p] : m_live) {
        if (matches(p, who)) {
            out.push_back(&p);
        }
    }
    return out;
}

std::vector<const Profile*> Profiles::visible(const TypedId& who, TimeMs now,
                                              TimeMs visibility_delay_ms) const {
    auto out = find(who);
    for (const auto& d : m_deleted) {
        bool seen = std::any_of(out.begin(), out.end(),
                                [&](const Profile* p) { return p->cio_id == d.profile.cio_id; });
        if (!seen && now < d.deleted_ms + visibility_delay_ms && matches(d.profile, who)) {
            out.push_back(&d.profile);
        }
    }
    return out;
}

void Profiles::check_unique(const ProfileSpec& spec, const std::string* except_cio_id) const {
    auto taken = [&](IdKind kind, const std::optional<std::string>& value) {
        if (!value) {
            return false;
        }
        for (const Profile* p : find({kind, *value})) {
            if (except_cio_id == nullptr || p->cio_id != *except_cio_id) {
                return true;
            }
        }
        return false;
    };
    if (taken(IdKind::id, spec.id)) {
        throw ProfileError("id is already used by another profile");
    }
    if (m_rules.identify_by == IdentifyBy::email_or_id && taken(IdKind::email, spec.email)) {
        throw ProfileError("email is already used by another profile (e-mails are unique in an "
                           "email_or_id workspace)");
    }
    if (m_rules.phone_identifier && taken(IdKind::phone, spec.phone)) {
        throw ProfileError("phone is already used by another profile");
    }
}

bool Profiles::spec_blocked(const ProfileSpec& spec) const {
    auto is_blocked = [&](IdKind kind, const std::optional<std::string>& value) {
        return value && is_identifier(kind, m_rules) && blocked({kind, *value});
    };
    return is_blocked(IdKind::id, spec.id) || is_blocked(IdKind::email, spec.email) ||
           is_blocked(IdKind::phone, spec.phone);
}

bool Profiles::add(const ProfileSpec& spec, TimeMs now, bool ignore_blocks) {
    bool has_id = spec.id && !spec.id->empty();
    bool has_email = spec.email && !spec.email->empty();
    if (m_rules.identify_by == IdentifyBy::id && !has_id) {
        throw ProfileError("a profile in an id workspace needs an id");
    }
    if (!has_id && !has_email) {
        throw ProfileError("a profile needs an id or an email");
    }
    if (spec.email && !looks_like_email(*spec.email)) {
        throw ProfileError("email is not an e-mail address");
    }
    if (spec.phone && !is_e164(*spec.phone)) {
        throw ProfileError("phone is not an E.164 number (+ and up to 15 digits)");
    }
    if (spec.cio_id && (!is_alnum_text(*spec.cio_id) || m_live.count(*spec.cio_id) != 0)) {
        throw ProfileError("cio_id must be letters and digits, unused by another live profile");
    }
    check_unique(spec, nullptr);
    if (!ignore_blocks && spec_blocked(spec)) {
        return false;
    }
    Profile p;
    p.cio_id = spec.cio_id ? *spec.cio_id : next_cio_id();
    p.id = spec.id;
    p.email = spec.email;
    p.phone = spec.phone;
    p.attributes = spec.attributes.is_object() ? spec.attributes : nlohmann::json::object();
    p.created_ms = now;
    p.updated_ms = now;
    m_live.emplace(p.cio_id, std::move(p));
    return true;
}

std::string Profiles::next_cio_id() {
    while (true) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%s%06llx", m_cio_prefix.c_str(),
                      static_cast<unsigned long long>(m_next_cio++));
        if (m_live.count(buf) == 0) {
            return buf;
        }
    }
}

Effect Profiles::identify(const TypedId& who, const nlohmann::json& attributes, TimeMs now) {
    ProfileSpec spec;
    spec.email = string_attribute(attributes, "email");
    spec.phone = string_attribute(attributes, "phone");
    spec.attributes = attributes;
    if (blocked(who) || spec_blocked(spec)) {
        return {0, false}; // Customer.io answers 200 and drops the call
    }
    auto found = find(who);
    if (found.empty()) {
        if (who.kind == IdKind::cio_id) {
            return {0, false}; // a cio_id is assigned, never created by a caller
        }
        (who.kind == IdKind::email ? spec.email : spec.id) = who.value;
        add(spec, now);
        return {0, true};
    }
    Profile& p = m_live.at(found.front()->cio_id);
    if (spec.email && !looks_like_email(*spec.email)) {
        throw ProfileError("email is not an e-mail address");
    }
    ProfileSpec next{
        p.cio_id, p.id, spec.email ? spec.email : p.email, spec.phone ? spec.phone : p.phone, {}};
    check_unique(next, &p.cio_id);
    p.email = next.email;
    p.phone = next.phone;
    p.attributes.update(attributes);
    p.updated_ms = now;
    return {1, true};
}

void Profiles::remove(const std::string& cio_id, TimeMs now, Removal how) {
    auto it = m_live.find(cio_id);
    m_deleted.push_back({std::move(it->second), now, how});
    m_live.erase(it);
}

void Profiles::block(IdKind kind, const std::string& value) {
    if (is_identifier(kind, m_rules) && kind != IdKind::cio_id) {
        m_blocked.emplace(kind, match_form(kind, value));
    }
}

Effect Profiles::suppress(const TypedId& who, TimeMs now) {
    auto found = find(who);
    if (found.empty()) {
        block(who.kind, who.value); // suppressing an identifier nobody holds still blocks it
        return {0, true};
    }
    std::vector<std::string> ids;
    for (const Profile* p : found) {
        ids.push_back(p->cio_id);
    }
    for (const auto& cio_id : ids) {
        const Profile& p = m_live.at(cio_id);
        for (IdKind kind : {IdKind::id, IdKind::email, IdKind::phone}) {
            if (const auto& value = field_of(p, kind)) {
                block(kind, *value);
            }
        }
        remove(cio_id, now, Removal::suppressed);
    }
    return {ids.size(), true};
}

Effect Profiles::destroy(const TypedId& who, TimeMs now) {
    std::vector<std::string> ids;
    for (const Profile* p : find(who)) {
        ids.push_back(p->cio_id);
    }
    for (const auto& cio_id : ids) {
        remove(cio_id, now, Removal::destroyed);
    }
    return {ids.size(), true};
}

bool Profiles::unsuppress(const TypedId& who) {
    return m_blocked.erase({who.kind, match_form(who.kind, who.value)}) != 0;
}

bool Profiles::blocked(const TypedId& who) const {
    return m_blocked.count({who.kind, match_form(who.kind, who.value)}) != 0;
}

void Profiles::clear() {
    m_live.clear();
    m_deleted.clear();
    m_blocked.clear();
}

nlohmann::json Profiles::to_json(bool with_profiles) const {
    nlohmann::json out;
    out["profile_count"] = m_live.size();
    out["deleted_count"] = m_deleted.size();
    if (with_profiles) {
        nlohmann::json live = nlohmann::json::array();
        for (const auto& [cio_id, p] : m_live) {
            live.push_back(sandbox::to_json(p));
        }
        nlohmann::json deleted = nlohmann::json::array();
        for (const auto& d : m_deleted) {
            auto entry = sandbox::to_json(d.profile);
            entry["deleted_at"] = format_iso8601_ms(d.deleted_ms);
            entry["deleted_by"] = removal_name(d.how);
            deleted.push_back(std::move(entry));
        }
        out["profiles"] = std::move(live);
        out["deleted"] = std::move(deleted);
    }
    nlohmann::json blocked = nlohmann::json::array();
    for (const auto& [kind, value] : m_blocked) {
        blocked.push_back({{"type", kind_name(kind)}, {"value", value}});
    }
    out["blocked"] = std::move(blocked);
    return out;
}

} // namespace lethe::sandbox
