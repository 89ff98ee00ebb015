#pragma once

#include "config/config.hpp"
#include "crypto/crypto.hpp"
#include "serve/signature.hpp"
#include "util/clock.hpp"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Who signed a request: the intake's named senders (docs/intake.md, "Senders").
namespace lethe::serve {

// One sender as the intake knows it: its name, its scopes and the secrets it signs with.
struct Sender {
    std::string name;
    unsigned scopes = 0;              // config::SenderScope bits
    std::vector<std::string> secrets; // current first, then the next one during a rotation
    bool callback = false;            // has a callback_url: its requests get completion callbacks

    // True when the sender holds `scope`.
    bool has(config::SenderScope scope) const {
        return (scopes & static_cast<unsigned>(scope)) != 0;
    }
};

// Who a request came from, without its secrets.
struct SenderIdentity {
    std::string name;
    unsigned scopes = 0;
    bool callback = false;

    bool has(config::SenderScope scope) const {
        return (scopes & static_cast<unsigned>(scope)) != 0;
    }
};

// The outcome of SenderRing::identify: exactly one of `sender` and `reason` is set.
struct Identified {
    std::optional<SenderIdentity> sender;
    std::string reason; // why the request is refused (401); never a header value or a name
};

// The senders and their secrets; replaced on SIGHUP while requests are being checked.
class SenderRing {
public:
    explicit SenderRing(std::vector<Sender> senders);
    // One sender "default" with both scopes (the [intake] secret; tests).
    static SenderRing single(std::vector<std::string> secrets);

    // Finds the sender whose secret signed `signed_body` (the raw body of a POST, or "GET " +
    // path for a status query). Every secret of every sender is tried, whatever matches, so the
    // time taken tells neither which sender signed nor how many there are.
    Identified identify(const PresentedSignature& presented, std::string_view signed_body,
                        TimeMs now) const;
    // Installs new senders for every later request.
    void replace(std::vector<Sender> senders);
    // The current senders.
    std::shared_ptr<const std::vector<Sender>> senders() const;

private:
    // The senders with every secret keyed once: keying an HMAC for each secret of each request
    // cost 2.3-3 us against 0.7 us for a copy of a keyed one (bench/RESULTS.md, "many senders").
    struct Ring {
        explicit Ring(std::vector<Sender> s);
        std::vector<Sender> senders;
        std::vector<std::pair<std::size_t, crypto::HmacSha256>> keys; // (sender index, key)
    };

    mutable std::mutex m_mutex;
    std::shared_ptr<const Ring> m_ring;
};

} // namespace lethe::serve
