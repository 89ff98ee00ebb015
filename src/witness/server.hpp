#pragma once

#include "net/listen_address.hpp"
#include "serve/http_daemon.hpp"
#include "util/clock.hpp"
#include "witness/witness.hpp"

#include <memory>
#include <mutex>
#include <string>

// The HTTP side of `lethe witness serve`: POST /add-checkpoint (C2SP tlog-witness) on the same
// hardened libmicrohttpd daemon as `lethe serve`, with a request rate limit.
namespace lethe::witness {

// A token bucket: `per_second` requests on average, `burst` at once. Thread-safe.
class RateLimiter {
public:
    RateLimiter(double per_second, double burst, const Clock& clock);
    // Takes a token; false when none is left (the request is answered 429).
    bool try_take();

private:
    double m_rate;
    double m_burst;
    double m_tokens;
    TimeMs m_last;
    const Clock& m_clock;
    std::mutex m_mutex;
};

struct WitnessServerSettings {
    net::ListenAddress address;
    double requests_per_second = 10;
    double burst = 20;
};

class WitnessServer final : public serve::HttpRoutes {
public:
    WitnessServer(Witness& witness, const WitnessServerSettings& settings, const Clock& clock);
    // Starts listening; returns the URL ("http://127.0.0.1:PORT"). Throws std::runtime_error.
    std::string start();
    void stop();

    std::optional<serve::HttpReply> before_body(const serve::RequestHead& head) override;
    serve::HttpReply answer(const serve::RequestHead& head, std::string_view body) override;
    serve::HttpReply too_large(const serve::RequestHead& head) override;

private:
    Witness& m_witness;
    WitnessServerSettings m_settings;
    RateLimiter m_limiter;
    std::unique_ptr<serve::HttpDaemon> m_daemon;
};

} // namespace lethe::witness
