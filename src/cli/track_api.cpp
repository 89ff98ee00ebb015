#include "cli/track_api.hpp"

#include "config/secrets.hpp"
#include "lethe_version.h"
#include "net/curl_client.hpp"
#include "util/error.hpp"

#include <spdlog/spdlog.h>

namespace lethe::cli {
namespace {

net::CurlOptions curl_options(const config::CustomerIoSection& c) {
    net::CurlOptions o;
    o.timeout_ms = c.timeout_ms;
    o.connect_timeout_ms = std::min<long>(c.timeout_ms, 10'000);
    o.ca_file = c.ca_file;
    o.user_agent = std::string("lethe/") + LETHE_VERSION;
    return o;
}

// One in-flight erasure: its own connection, credentials refreshed when they were rotated.
class TrackErasureApi final : public worker::ErasureApi {
public:
    TrackErasureApi(TrackApi& owner, const config::CustomerIoSection& c, const Clock& clock,
                    const std::atomic<std::uint64_t>& generation)
        : m_owner(owner), m_http(curl_options(c)),
          m_client(m_http, owner.endpoint(), owner.credentials(), clock), m_generation(generation),
          m_seen(generation.load()) {}

    cio::CallResult suppress(std::string_view identifier) override {
        refresh();
        return m_client.suppress(identifier);
    }
    cio::CallResult destroy(std::string_view identifier) override {
        refresh();
        return m_client.destroy(identifier);
    }
    cio::RegionInfo region() {
        refresh();
        return m_client.region();
    }

private:
    void refresh() {
        std::uint64_t now = m_generation.load();
        if (now != m_seen) {
            m_client.set_credentials(m_owner.credentials());
            m_seen = now;
        }
    }

    TrackApi& m_owner;
    net::CurlHttpClient m_http;
    cio::TrackClient m_client;
    const std::atomic<std::uint64_t>& m_generation;
    std::uint64_t m_seen;
};

} // namespace

TrackApi::TrackApi(const config::Config& cfg, const Clock& clock)
    : m_cfg(cfg),
      m_clock(clock), m_endpoint{cfg.customerio.track_url, cfg.customerio.allow_insecure_loopback} {
    cio::validate_endpoint(m_endpoint);
    if (cfg.customerio.site_id.empty()) {
        throw ConfigError(cfg.source.string() + ": customerio.site_id: must be set");
    }
    m_credentials = resolve();
}

cio::Credentials TrackApi::resolve() const {
    // Also registers the key and the Basic credential for log redaction.
    auto secret = config::resolve_track_api_key(m_cfg);
    return {m_cfg.customerio.site_id, secret.value};
}

cio::Credentials TrackApi::credentials() const {
    std::lock_guard lock(m_mutex);
    return m_credentials;
}

bool TrackApi::reload_credentials() {
    try {
        cio::Credentials fresh = resolve();
        std::lock_guard lock(m_mutex);
        if (fresh.api_key == m_credentials.api_key && fresh.site_id == m_credentials.site_id) {
            spdlog::info("credentials re-read: unchanged");
            return false;
        }
        m_credentials = std::move(fresh);
        ++m_generation;
        spdlog::info("credentials re-read: new credentials in use");
        return true;
    } catch (const std::exception& e) {
        spdlog::error("credentials could not be re-read, keeping the current ones: {}", e.what());
        return false;
    }
}

worker::ErasureApiFactory TrackApi::factory() {
    return [this]() -> std::unique_ptr<worker::ErasureApi> {
        return make();
    };
}

std::unique_ptr<worker::ErasureApi> TrackApi::make() {
    return std::make_unique<TrackErasureApi>(*this, m_cfg.customerio, m_clock, m_generation);
}

cio::RegionInfo TrackApi::region() {
    TrackErasureApi api(*this, m_cfg.customerio, m_clock, m_generation);
    return api.region();
}

} // namespace lethe::cli
