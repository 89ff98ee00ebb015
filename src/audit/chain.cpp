#include "audit/chain.hpp"

#include "util/strings.hpp"

#include <cstring>
#include <openssl/err.h>
#include <stdexcept>

namespace lethe::audit {
namespace {

constexpr char k_hex_digits[] = "0123456789abcdef";

std::string short_hash(std::string_view h) {
    if (h.size() <= 16) {
        return std::string(h);
    }
    return std::string(h.substr(0, 16)) + "...";
}

} // namespace

bool parse_hex_list(std::string_view text, std::vector<std::string>& out) {
    out.clear();
    while (!text.empty()) {
        const auto sp = text.find(' ');
        const std::string_view hex = text.substr(0, sp);
        auto raw = is_hash_hex(hex) ? from_hex(hex) : std::nullopt;
        if (!raw || (sp != std::string_view::npos && sp + 1 == text.size())) {
            return false;
        }
        out.push_back(std::move(*raw));
        text.remove_prefix(sp == std::string_view::npos ? text.size() : sp + 1);
    }
    return true;
}

bool is_hash_hex(std::string_view s) {
    if (s.size() != 64) {
        return false;
    }
    // Eight bytes at a time (every entry of a verify or an export passes here twice). For bytes
    // below 0x80, adding 0x80 - lo sets a byte's high bit exactly when it is >= lo, without a
    // carry into the next byte; adding 0x7f - hi sets it exactly when it is > hi.
    constexpr std::uint64_t ones = 0x0101010101010101;
    constexpr std::uint64_t highs = ones * 0x80;
    auto in_range = [](std::uint64_t w, std::uint64_t lo, std::uint64_t hi) {
        return (w + ones * (0x80 - lo)) & ~(w + ones * (0x7f - hi)) & highs;
    };
    for (std::size_t i = 0; i < 64; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        if ((w & highs) != 0 || (in_range(w, '0', '9') | in_range(w, 'a', 'f')) != highs) {
            return false;
        }
    }
    return true;
}

void EntryHasher::MdDeleter::operator()(EVP_MD* md) const {
    EVP_MD_free(md);
}

EntryHasher::EntryHasher()
    // An explicitly fetched digest: OpenSSL 3 would otherwise look SHA-256 up again on every
    // EVP_DigestInit_ex, which costs more than hashing a short entry.
    : m_md(EVP_MD_fetch(nullptr, "SHA256", nullptr)), m_ctx(EVP_MD_CTX_new()) {
    if (!m_md || !m_ctx) {
        ERR_clear_error();
        throw std::runtime_error("OpenSSL: cannot set up SHA-256");
    }
    m_buf.reserve(4096);
}

std::string_view EntryHasher::hash_hex(const AuditEntryView& e) {
    m_buf.clear(); // keeps its capacity: no allocation once warmed up
    store::append_audit_entry_encoding(m_buf, e);

    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestInit_ex2(m_ctx.get(), m_md.get(), nullptr) != 1 ||
        EVP_DigestUpdate(m_ctx.get(), m_buf.data(), m_buf.size()) != 1 ||
        EVP_DigestFinal_ex(m_ctx.get(), digest, &len) != 1 || len != 32) {
        ERR_clear_error();
        throw std::runtime_error("OpenSSL: SHA-256 failed");
    }
    for (unsigned int i = 0; i < 32; ++i) {
        m_hex[2 * i] = k_hex_digits[digest[i] >> 4];
        m_hex[2 * i + 1] = k_hex_digits[digest[i] & 0x0f];
    }
    return {m_hex.data(), m_hex.size()};
}

ChainVerifier ChainVerifier::from_genesis() {
    auto v = anchored(1, std::string(store::k_genesis_hash));
    v.track_tree(crypto::merkle::Frontier());
    return v;
}

ChainVerifier ChainVerifier::anchored(std::int64_t first_seq, std::string prev_hash) {
    ChainVerifier v;
    v.m_next_seq = first_seq;
    v.m_last_hash = prev_hash;
    v.m_prev_hash = std::move(prev_hash);
    return v;
}

ChainVerifier ChainVerifier::self_anchored() {
    ChainVerifier v;
    v.m_tree_from_first = true;
    return v;
}

void ChainVerifier::expect(std::int64_t size, std::string hash, std::string root,
                           std::string source) {
    m_expect.emplace(size, Expectation{std::move(hash), std::move(root), std::move(source)});
}

void ChainVerifier::set_aside_while(const std::function<bool(std::int64_t)>& outside) {
    for (auto it = m_expect.begin(); it != m_expect.end();) {
        if (outside(it->first)) {
            m_outside.push_back(
                Outside{it->first, it->second.hash, it->second.root, it->second.source});
            it = m_expect.erase(it);
        } else {
            ++it;
        }
    }
}

bool ChainVerifier::fail(std::int64_t seq, std::string what) {
    if (!m_failure) {
        m_failure = ChainFailure{seq, std::move(what)};
    }
    return false;
}

bool ChainVerifier::check_expectations_at(std::int64_t seq, std::string_view hash) {
    auto [begin, end] = m_expect.equal_range(seq);
    for (auto it = begin; it != end; ++it) {
        if (it->second.hash != hash) {
            // The entry itself is consistent with its neighbours, so the log was rewritten
            // from this entry (or an earlier one) on, hashes and all.
            return fail(seq == 0 ? 1 : seq, "hash " + short_hash(hash) + " differs from " +
                                                it->second.source + ", which signed " +
                                                short_hash(it->second.hash) + " for seq " +
                                                std::to_string(seq) +
                                                ": the log was rewritten at or before this entry");
        }
        if (!it->second.root.empty() && m_tree && m_tree->begin() == 0 &&
            to_hex(m_tree->root()) != it->second.root) {
            return fail(seq == 0 ? 1 : seq, "the Merkle root of the first " + std::to_string(seq) +
                                                " entries differs from " + it->second.source +
                                                ", which signed " + short_hash(it->second.root) +
                                                ": the checkpoint does not state these entries");
        }
    }
    m_expect.erase(begin, end);
    return true;
}

bool ChainVerifier::add(const AuditEntryView& e) {
    if (m_failure) {
        return false;
    }
    const bool first = m_count == 0;
    if (m_next_seq && e.seq != *m_next_seq) {
        if (e.seq > *m_next_seq) {
            return fail(*m_next_seq,
                        "missing: the next entry is seq " + std::to_string(e.seq) + ", so seq " +
                            std::to_string(*m_next_seq) +
                            (e.seq - 1 > *m_next_seq ? " to " + std::to_string(e.seq - 1) : "") +
                            " is absent");
        }
        return fail(e.seq, "out of order: expected seq " + std::to_string(*m_next_seq));
    }
    if (!is_hash_hex(e.prev_hash)) {
        return fail(e.seq, "prev_hash is not 64 lower-case hex digits");
    }
    if (!is_hash_hex(e.hash)) {
        return fail(e.seq, "hash is not 64 lower-case hex digits");
    }
    if (m_prev_hash && e.prev_hash != *m_prev_hash) {
        if (first) {
            return fail(e.seq, e.seq == 1 ? "prev_hash of the first entry is not the genesis hash"
                                          : "prev_hash does not match the anchor (seq " +
                                                std::to_string(e.seq - 1) + " should have hash " +
                                                short_hash(*m_prev_hash) + ")");
        }
        return fail(e.seq, "prev_hash does not match the hash of seq " + std::to_string(e.seq - 1) +
                               " (an entry before it was changed, inserted or removed)");
    }
    if (first) {
        // Expectations before the first entry cannot be checked, except at the anchor itself.
        m_first_seq = e.seq;
        m_first_prev_hash = std::string(e.prev_hash);
        if (m_tree_from_first) {
            // The tree of the entries before is not known here: a range from this entry on.
            m_tree = crypto::merkle::Frontier::starting_at(e.seq - 1);
        }
        if (m_set_aside) {
            set_aside_while([&](std::int64_t size) { return size < e.seq - 1; });
        }
        if (!m_expect.empty() && m_expect.begin()->first < e.seq - 1) {
            const auto& [size, exp] = *m_expect.begin();
            return fail(e.seq, exp.source + " covers seq " + std::to_string(size) +
                                   ", which is before the first entry here; it cannot be checked");
        }
        if (!check_expectations_at(e.seq - 1, e.prev_hash)) {
            return false;
        }
    }
    std::string_view computed = m_hasher.hash_hex(e);
    if (computed != e.hash) {
        return fail(e.seq, "hash does not match the entry's contents (stored " +
                               short_hash(e.hash) + ", computed " + short_hash(computed) +
                               "): the entry was changed");
    }
    if (m_tree) {
        m_tree->push(store::audit_leaf_hash(e.hash), m_observer);
    }
    if (!m_expect.empty() && m_expect.begin()->first == e.seq &&
        !check_expectations_at(e.seq, e.hash)) {
        return false;
    }
    ++m_count;
    m_last_seq = e.seq;
    m_last_hash.assign(e.hash);
    m_next_seq = e.seq + 1;
    if (m_prev_hash) {
        m_prev_hash->assign(e.hash);
    } else {
        m_prev_hash.emplace(e.hash);
    }
    return true;
}

bool ChainVerifier::finish() {
    if (m_failure) {
        return false;
    }
    if (m_set_aside) {
        const bool none = m_count == 0 && !m_next_seq;
        set_aside_while([&](std::int64_t size) { return none || size > m_last_seq; });
    }
    if (m_count == 0 && m_next_seq) {
        // No entries: only the anchor itself can be compared.
        if (!check_expectations_at(*m_next_seq - 1, m_last_hash)) {
            return false;
        }
    }
    if (!m_expect.empty()) {
        const auto& [size, exp] = *m_expect.begin();
        const std::int64_t next = m_count == 0 ? m_next_seq.value_or(1) : m_last_seq + 1;
        if (size < next - 1) {
            return fail(size, exp.source + " covers seq " + std::to_string(size) +
                                  ", which is before the first entry here; it cannot be checked");
        }
        auto last = m_expect.rbegin();
        return fail(next, "missing: " + last->second.source + " covers " +
                              std::to_string(last->first) + " entries but the log ends at seq " +
                              std::to_string(next - 1) + " (entries were removed from the end)");
    }
    return true;
}

} // namespace lethe::audit
