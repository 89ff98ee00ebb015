#pragma once

#include "cio/track_client.hpp"
#include "config/config.hpp"
#include "worker/worker.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace lethe::cli {

// The config key a workspace's setting is reported under: "customerio.KEY" for the [customerio]
// workspace, "workspace.NAME.KEY" for a [[workspace]].
std::string workspace_key(const config::WorkspaceSection& ws, std::string_view key);

// The workspace commands use while lethe erases in one workspace only: the first one. Throws
// lethe::ConfigError when the config has none ([[workspace]] or [customerio]).
const config::WorkspaceSection& first_workspace(const config::Config& cfg);

// One workspace's Customer.io Track API: endpoint policy, credentials (re-readable for rotation)
// and one HTTP connection per in-flight erasure.
class TrackApi {
public:
    // Validates the workspace's endpoint and resolves its credentials; keeps references to
    // `cfg`, `ws` (an element of cfg.workspaces) and `clock`. Throws lethe::ConfigError.
    TrackApi(const config::Config& cfg, const config::WorkspaceSection& ws, const Clock& clock);
    // Makes ErasureApi instances that always use the latest credentials.
    worker::ErasureApiFactory factory();
    // Makes VerifyApi instances (App API) when the workspace has an App API key; else an empty
    // function: its erasures are then unverified.
    worker::VerifyApiFactory verify_factory();
    // True when the workspace has an App API key (resolve and verify).
    bool verifies() const { return m_app_key.has_value(); }
    // A client for a single call (e.g. `lethe check`).
    std::unique_ptr<worker::ErasureApi> make();
    // Re-reads the credentials; true when they changed. Never throws: a failed re-read keeps
    // the old credentials and is logged (without the secret).
    bool reload_credentials();
    // The current credentials.
    cio::Credentials credentials() const;
    const cio::Endpoint& endpoint() const { return m_endpoint; }
    // The workspace this API talks to.
    const config::WorkspaceSection& workspace() const { return m_ws; }
    // A connected Track client with the current credentials (for `lethe check`).
    cio::RegionInfo region();
    // Pins the current credentials to this workspace: asks GET /api/v1/accounts/region and
    // compares the answer with the configuration (cio::check_pin). Answers from memory while the
    // credentials it last pinned are in use, so the worker may ask before every claim. Never
    // throws; thread-safe.
    worker::PinResult pin();

private:
    cio::Credentials resolve() const;

    const config::Config& m_cfg;
    const config::WorkspaceSection& m_ws;
    const Clock& m_clock;
    cio::Endpoint m_endpoint;
    mutable std::mutex m_mutex;
    cio::Credentials m_credentials;
    std::atomic<std::uint64_t> m_generation{0};
    std::optional<std::string> m_app_key; // the App API key, when configured
    std::mutex m_pin_mutex;
    std::optional<std::uint64_t> m_pinned_generation; // the credentials pin() last accepted
};

} // namespace lethe::cli
