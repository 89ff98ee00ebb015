#include "witness/server.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace lethe::witness {
namespace {

// A checkpoint note of at most 16 signatures and 63 proof lines fits easily.
constexpr std::size_t k_max_body_bytes = 64 * 1024;
constexpr std::string_view k_path = "/add-checkpoint";

serve::HttpReply text_reply(int status, std::string body, bool close = false) {
    serve::HttpReply r;
    r.status = status;
    r.body = std::move(body);
    r.content_type = "text/plain; charset=utf-8";
    r.close = close;
    return r;
}

} // namespace

RateLimiter::RateLimiter(double per_second, double burst, const Clock& clock)
    : m_rate(per_second), m_burst(burst), m_tokens(burst), m_last(clock.now_ms()), m_clock(clock) {
}

bool RateLimiter::try_take() {
    std::lock_guard lock(m_mutex);
    const TimeMs now = m_clock.now_ms();
    m_tokens = std::min(m_burst, m_tokens + static_cast<double>(now - m_last) / 1000.0 * m_rate);
    m_last = now;
    if (m_tokens < 1.0) {
        return false;
    }
    m_tokens -= 1.0;
    return true;
}

WitnessServer::WitnessServer(Witness& witness, const WitnessServerSettings& settings,
                             const Clock& clock)
    : m_witness(witness), m_settings(settings),
      m_limiter(settings.requests_per_second, settings.burst, clock) {
    serve::DaemonSettings d;
    d.address = settings.address;
    d.max_body_bytes = k_max_body_bytes;
    d.connection_memory_bytes = 32 * 1024;
    d.connection_limit = 64;
    d.connection_limit_per_ip = 16;
    m_daemon = std::make_unique<serve::HttpDaemon>(d, *this);
}

std::string WitnessServer::start() {
    const int port = m_daemon->start();
    return "http://" + m_settings.address.authority(port);
}

void WitnessServer::stop() {
    m_daemon->stop();
}

std::optional<serve::HttpReply> WitnessServer::before_body(const serve::RequestHead& head) {
    if (head.path != k_path) {
        return text_reply(404, "not found\n", true);
    }
    if (head.method != "POST") {
        auto r = text_reply(405, "use POST\n", true);
        r.headers.emplace_back("Allow", "POST");
        return r;
    }
    if (!m_limiter.try_take()) {
        auto r = text_reply(429, "too many requests\n", true);
        r.headers.emplace_back("Retry-After", "1");
        return r;
    }
    return std::nullopt;
}

serve::HttpReply WitnessServer::answer(const serve::RequestHead&, std::string_view body) {
    try {
        auto r = m_witness.add_checkpoint(body);
        serve::HttpReply out = text_reply(r.status, std::move(r.body));
        out.content_type = r.content_type;
        if (r.status != 200) {
            spdlog::info("add-checkpoint refused: {} {}", r.status, out.body.substr(0, 120));
        }
        return out;
    } catch (const std::exception& e) {
        spdlog::error("add-checkpoint failed: {}", e.what());
        return text_reply(500, "internal error\n");
    }
}

serve::HttpReply WitnessServer::too_large(const serve::RequestHead&) {
    return text_reply(413, "body too large\n", true);
}

} // namespace lethe::witness
