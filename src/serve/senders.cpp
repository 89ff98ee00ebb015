#include "serve/senders.hpp"

namespace lethe::serve {

SenderRing::Ring::Ring(std::vector<Sender> s) : senders(std::move(s)) {
    for (std::size_t i = 0; i < senders.size(); ++i) {
        for (const auto& secret : senders[i].secrets) {
            keys.emplace_back(i, crypto::HmacSha256(secret));
        }
    }
}

SenderRing::SenderRing(std::vector<Sender> senders)
    : m_ring(std::make_shared<const Ring>(std::move(senders))) {
}

SenderRing SenderRing::single(std::vector<std::string> secrets) {
    Sender s;
    s.name = config::k_legacy_sender_name;
    s.scopes = static_cast<unsigned>(config::SenderScope::submit) |
               static_cast<unsigned>(config::SenderScope::read);
    s.secrets = std::move(secrets);
    return SenderRing({std::move(s)});
}

Identified SenderRing::identify(const PresentedSignature& presented, std::string_view signed_body,
                                TimeMs now) const {
    Identified out;
    PresentedMac given = presented_mac(presented, now);
    if (given.mac.empty()) {
        out.reason = std::move(given.reason);
        return out;
    }
    const std::string message = signed_message(*presented.timestamp, signed_body);
    std::shared_ptr<const Ring> ring;
    {
        std::lock_guard lock(m_mutex);
        ring = m_ring;
    }
    // No early exit and no branch on a comparison: the index of the match is selected with a
    // mask. Secrets are unique across senders (config::resolve_all_sender_secrets), so at most
    // one sender matches.
    std::size_t found = 0;
    std::size_t any = 0;
    for (const auto& [i, key] : ring->keys) {
        const std::size_t hit = crypto::constant_time_equal(key.mac(message), given.mac) ? 1 : 0;
        const std::size_t mask = std::size_t{0} - hit;
        found = (found & ~mask) | (i & mask);
        any |= hit;
    }
    if (any == 0) {
        out.reason = std::string(k_signature_header) + " does not match the body and timestamp";
        return out;
    }
    const Sender& s = ring->senders[found];
    out.sender = SenderIdentity{s.name, s.scopes, s.callback};
    return out;
}

void SenderRing::replace(std::vector<Sender> senders) {
    auto fresh = std::make_shared<const Ring>(std::move(senders));
    std::lock_guard lock(m_mutex);
    m_ring = std::move(fresh);
}

std::shared_ptr<const std::vector<Sender>> SenderRing::senders() const {
    std::lock_guard lock(m_mutex);
    return {m_ring, &m_ring->senders}; // shares the ring's ownership
}

} // namespace lethe::serve
