#include "sandbox/context.hpp"

#include <cstdio>
#include <stdexcept>

namespace lethe::sandbox {
namespace {

// cio_ids start with the environment id in hex, so each workspace's are recognisable and no
// cio_id of one workspace addresses anybody in another.
std::string cio_prefix(std::int64_t environment_id) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(environment_id));
    return buf;
}

} // namespace

Context::Context(const WorkspacesFile& file, const FaultConfig& base_faults, std::size_t log_limit,
                 bool access_log_enabled)
    : state(log_limit, file.visibility_delay_ms), access_log(access_log_enabled) {
    for (const auto& settings : file.workspaces) {
        std::size_t index =
            state.add_workspace(settings.name, settings.rules, cio_prefix(settings.environment_id));
        try {
            state.seed(index, settings.people, clock.now_ms(), /*ignore_blocks=*/false);
        } catch (const ProfileError& e) {
            throw std::invalid_argument("workspace " + settings.name + ": " + e.what());
        }
        workspaces.push_back(
            std::make_unique<Workspace>(settings, base_faults, file.app_rate_limit));
    }
}

std::optional<std::size_t> Context::find(std::string_view name) const {
    for (std::size_t i = 0; i < workspaces.size(); ++i) {
        if (workspaces[i]->settings.name == name) {
            return i;
        }
    }
    return std::nullopt;
}

} // namespace lethe::sandbox
