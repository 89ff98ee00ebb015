#pragma once

#include "cio/track_client.hpp"
#include "config/config.hpp"
#include "worker/worker.hpp"

#include <atomic>
#include <memory>
#include <mutex>

namespace lethe::cli {

// The configured Customer.io Track API: endpoint policy, credentials (re-readable for rotation)
// and one HTTP connection per in-flight erasure.
class TrackApi {
public:
    // Validates the endpoint and resolves the credentials. Throws lethe::ConfigError.
    TrackApi(const config::Config& cfg, const Clock& clock);
    // Makes ErasureApi instances that always use the latest credentials.
    worker::ErasureApiFactory factory();
    // A client for a single call (e.g. `lethe check`).
    std::unique_ptr<worker::ErasureApi> make();
    // Re-reads the credentials; true when they changed. Never throws: a failed re-read keeps
    // the old credentials and is logged (without the secret).
    bool reload_credentials();
    // The current credentials.
    cio::Credentials credentials() const;
    const cio::Endpoint& endpoint() const { return m_endpoint; }
    // A connected Track client with the current credentials (for `lethe check`).
    cio::RegionInfo region();

private:
    cio::Credentials resolve() const;

    const config::Config& m_cfg;
    const Clock& m_clock;
    cio::Endpoint m_endpoint;
    mutable std::mutex m_mutex;
    cio::Credentials m_credentials;
    std::atomic<std::uint64_t> m_generation{0};
};

} // namespace lethe::cli
