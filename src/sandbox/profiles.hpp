#pragma once

#include "sandbox/identifiers.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace lethe::sandbox {

// One person in a workspace. cio_id is assigned by the workspace and never changes.
struct Profile {
    std::string cio_id;
    std::optional<std::string> id;
    std::optional<std::string> email;
    std::optional<std::string> phone;
    nlohmann::json attributes = nlohmann::json::object();
    TimeMs created_ms = 0;
    TimeMs updated_ms = 0;
};

// A profile as a seed or an identify call describes it (cio_id optional).
struct ProfileSpec {
    std::optional<std::string> cio_id;
    std::optional<std::string> id;
    std::optional<std::string> email;
    std::optional<std::string> phone;
    nlohmann::json attributes = nlohmann::json::object();
};

// Why a profile cannot be added; the message names the field, never its value.
class ProfileError : public std::invalid_argument {
public:
    explicit ProfileError(const std::string& message) : std::invalid_argument(message) {}
};

// How a profile left the workspace.
enum class Removal { suppressed, destroyed };

// What a suppress, destroy or identify did.
struct Effect {
    std::size_t matched = 0; // profiles the identifier addressed
    bool applied = true;     // false: answered 200 but ignored (a blocked identifier)
};

// The people of one workspace under its identifier rules: live profiles, deleted ones (kept for
// the state view and for reads during the visibility delay) and blocked identifiers. Not
// thread-safe; State guards it.
class Profiles {
public:
    // `cio_prefix` starts every assigned cio_id, so ids of different workspaces never collide.
    Profiles(IdentifierRules rules, std::string cio_prefix);

    const IdentifierRules& rules() const { return m_rules; }

    // Adds a profile. Throws ProfileError when it has no identifier the workspace accepts, a
    // malformed phone or cio_id, or an identifier another live profile already holds. Returns
    // false (nothing added) when one of its identifiers is blocked, unless `ignore_blocks`.
    bool add(const ProfileSpec& spec, TimeMs now, bool ignore_blocks = false);

    // Live profiles that `who` addresses: at most one, except an e-mail in an id workspace.
    std::vector<const Profile*> find(const TypedId& who) const;

    // Profiles that App API reads still see at `now`: the live ones `who` addresses, and those
    // deleted less than `visibility_delay_ms` ago.
    std::vector<const Profile*> visible(const TypedId& who, TimeMs now,
                                        TimeMs visibility_delay_ms) const;

    // Identify: updates the addressed profile or creates one (not for a cio_id); ignored when the
    // identifier, or an e-mail or phone in `attributes`, is blocked. Throws ProfileError when
    // the attributes would give the profile an identifier another profile holds.
    Effect identify(const TypedId& who, const nlohmann::json& attributes, TimeMs now);

    // Suppress: deletes the addressed profile and blocks its identifiers (its id, and its e-mail
    // and phone where those are identifiers); with nobody found, blocks `who` itself.
    Effect suppress(const TypedId& who, TimeMs now);

    // Destroy: deletes the addressed profile(s), blocking nothing.
    Effect destroy(const TypedId& who, TimeMs now);

    // Lifts the block of `who`; true when there was one.
    bool unsuppress(const TypedId& who);

    // True when `who` may not be added again.
    bool blocked(const TypedId& who) const;

    // Forgets everything.
    void clear();

    // {"profiles": [...], "profile_count", "deleted": [...], "blocked": [...]}.
    nlohmann::json to_json(bool with_profiles) const;

private:
    struct Deleted {
        Profile profile;
        TimeMs deleted_ms = 0;
        Removal how = Removal::destroyed;
    };

    bool matches(const Profile& p, const TypedId& who) const;
    void check_unique(const ProfileSpec& spec, const std::string* except_cio_id) const;
    bool spec_blocked(const ProfileSpec& spec) const;
    std::string next_cio_id();
    void remove(const std::string& cio_id, TimeMs now, Removal how);
    void block(IdKind kind, const std::string& value);

    IdentifierRules m_rules;
    std::string m_cio_prefix;
    std::uint64_t m_next_cio = 1;
    // Keyed by cio_id. The sandbox holds at most thousands of people: lookups scan.
    std::map<std::string, Profile> m_live;
    std::vector<Deleted> m_deleted;
    std::set<std::pair<IdKind, std::string>> m_blocked; // values in match_form
};

// Serialises a profile for the state view and the App API.
nlohmann::json to_json(const Profile& profile);

} // namespace lethe::sandbox
