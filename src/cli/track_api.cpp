#include "cli/track_api.hpp"

#include "cio/app_client.hpp"
#include "cio/pin.hpp"
#include "config/secrets.hpp"
#include "lethe_version.h"
#include "net/curl_client.hpp"
#include "util/error.hpp"

#include <spdlog/spdlog.h>

namespace lethe::cli {
namespace {

net::CurlOptions curl_options(const config::WorkspaceSection& c) {
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
    TrackErasureApi(TrackApi& owner, const config::WorkspaceSection& c, const Clock& clock,
                    const std::atomic<std::uint64_t>& generation)
        : m_owner(owner), m_http(curl_options(c)),
          m_client(m_http, owner.endpoint(), owner.credentials(), clock), m_generation(generation),
          m_seen(generation.load()) {}

    cio::CallResult suppress(const cio::Target& who) override {
        refresh();
        return m_client.entity("suppress", who);
    }
    cio::CallResult destroy(const cio::Target& who) override {
        refresh();
        return m_client.entity("delete", who);
    }
    cio::BatchResult batch(erasure::Step step, const std::vector<cio::Target>& who) override {
        refresh();
        return m_client.batch(step == erasure::Step::suppress ? "suppress" : "delete", who);
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

// One slot's App API reads, on its own connection.
class AppVerifyApi final : public worker::VerifyApi {
public:
    AppVerifyApi(const config::WorkspaceSection& ws, const std::string& key, const Clock& clock)
        : m_http(curl_options(ws)),
          m_client(m_http, {ws.app_url, ws.allow_insecure_loopback}, key, clock) {}
    cio::Lookup find(const cio::Target& who) override { return m_client.find(who); }
    cio::Lookup present(const std::vector<std::string>& cio_ids) override {
        return m_client.present(cio_ids);
    }
    cio::BulkLookup find_many(const std::string& id_type,
                              const std::vector<std::string>& values) override {
        return m_client.find_many(id_type, values);
    }

private:
    net::CurlHttpClient m_http;
    cio::AppClient m_client;
};

} // namespace

std::string workspace_key(const config::WorkspaceSection& ws, std::string_view key) {
    return (ws.from_customerio_section ? std::string("customerio.")
                                       : "workspace." + ws.name + ".") +
           std::string(key);
}

const config::WorkspaceSection& first_workspace(const config::Config& cfg) {
    if (cfg.workspaces.empty()) {
        throw ConfigError((cfg.source.empty() ? std::string() : cfg.source.string() + ": ") +
                          "no Customer.io workspace is configured: add a [[workspace]] table "
                          "with name, site_id, environment_id and the Track API key (or a "
                          "[customerio] section)");
    }
    return cfg.workspaces.front();
}

TrackApi::TrackApi(const config::Config& cfg, const config::WorkspaceSection& ws,
                   const Clock& clock)
    : m_cfg(cfg), m_ws(ws), m_clock(clock), m_endpoint{ws.track_url, ws.allow_insecure_loopback} {
    cio::validate_endpoint(m_endpoint, workspace_key(ws, "track_url"));
    if (ws.site_id.empty()) {
        throw ConfigError(cfg.source.string() + ": " + workspace_key(ws, "site_id") +
                          ": must be set");
    }
    m_credentials = resolve();
    if (auto app = config::resolve_app_api_key(cfg, ws)) {
        cio::validate_endpoint({ws.app_url, ws.allow_insecure_loopback},
                               workspace_key(ws, "app_url"));
        m_app_key = app->value;
    }
}

cio::Credentials TrackApi::resolve() const {
    // Also registers the key and the Basic credential for log redaction.
    auto secret = config::resolve_track_api_key(m_cfg, m_ws);
    return {m_ws.site_id, secret.value};
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
            spdlog::info("workspace {}: credentials re-read: unchanged", m_ws.name);
            return false;
        }
        m_credentials = std::move(fresh);
        ++m_generation;
        spdlog::info("workspace {}: credentials re-read: new credentials in use", m_ws.name);
        return true;
    } catch (const std::exception& e) {
        spdlog::error(
            "workspace {}: credentials could not be re-read, keeping the current ones: {}",
            m_ws.name, e.what());
        return false;
    }
}

worker::VerifyApiFactory TrackApi::verify_factory() {
    if (!m_app_key) {
        return {};
    }
    return [this]() -> std::unique_ptr<worker::VerifyApi> {
        return std::make_unique<AppVerifyApi>(m_ws, *m_app_key, m_clock);
    };
}

worker::ErasureApiFactory TrackApi::factory() {
    return [this]() -> std::unique_ptr<worker::ErasureApi> {
        return make();
    };
}

std::unique_ptr<worker::ErasureApi> TrackApi::make() {
    return std::make_unique<TrackErasureApi>(*this, m_ws, m_clock, m_generation);
}

cio::RegionInfo TrackApi::region() {
    TrackErasureApi api(*this, m_ws, m_clock, m_generation);
    return api.region();
}

worker::PinResult TrackApi::pin() {
    std::lock_guard lock(m_pin_mutex);
    const std::uint64_t generation = m_generation.load();
    if (m_pinned_generation == generation) {
        return {};
    }
    cio::PinCheck verdict;
    try {
        verdict = cio::check_pin(region(), {m_ws.region, m_ws.environment_id, m_ws.track_url});
    } catch (const std::exception& e) {
        return {worker::HaltKind::unreachable, std::string("pin check failed: ") + e.what(),
                std::string(cio::to_text(cio::PinStatus::unreachable))};
    }
    const std::string code(cio::to_text(verdict.status));
    switch (verdict.status) {
    case cio::PinStatus::ok:
        m_pinned_generation = generation;
        if (!m_ws.environment_id) {
            spdlog::warn("workspace {}: {} is not set, so the key is pinned by region and host "
                         "only; set it to the environment id `lethe check` prints",
                         m_ws.name, workspace_key(m_ws, "environment_id"));
        }
        return {};
    case cio::PinStatus::credentials_refused:
        return {worker::HaltKind::credentials, verdict.message, code};
    case cio::PinStatus::unreachable:
        return {worker::HaltKind::unreachable, verdict.message, code};
    case cio::PinStatus::environment_mismatch:
    case cio::PinStatus::region_mismatch:
    case cio::PinStatus::url_mismatch:
        return {worker::HaltKind::pin, verdict.message, code};
    }
    return {worker::HaltKind::pin, verdict.message, code};
}

} // namespace lethe::cli
