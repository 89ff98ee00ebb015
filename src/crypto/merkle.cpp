#include "crypto/merkle.hpp"

#include "crypto/crypto.hpp"

#include <bit>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdexcept>

namespace lethe::crypto::merkle {
namespace {

struct MdDeleter {
    void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};

// SHA-256 of prefix || a || b with a digest fetched once and a context kept per thread: every
// appended entry hashes a leaf and about one node, and every verified entry as many, so
// OpenSSL's implicit fetch per one-shot digest (more than the hashing of 65 bytes) is avoided.
std::string prefixed_sha256(unsigned char prefix, std::string_view a, std::string_view b) {
    static const std::unique_ptr<EVP_MD, MdDeleter> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
    thread_local const EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!md || !ctx || EVP_DigestInit_ex2(ctx.get(), md.get(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), &prefix, 1) != 1 ||
        EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 ||
        EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), out, &len) != 1 || len != 32) {
        ERR_clear_error();
        throw std::runtime_error("OpenSSL: SHA-256 failed");
    }
    return std::string(reinterpret_cast<const char*>(out), len);
}

// The largest power of two smaller than n (n >= 2): RFC 6962's split point k.
std::int64_t split_point(std::int64_t n) {
    return std::int64_t{1} << (63 - std::countl_zero(static_cast<std::uint64_t>(n - 1)));
}

// The largest level L such that `begin` is a multiple of 2^L and begin + 2^L <= end.
int largest_aligned_level(std::int64_t begin, std::int64_t end) {
    int level = begin == 0 ? 62 : std::countr_zero(static_cast<std::uint64_t>(begin));
    while ((std::int64_t{1} << level) > end - begin) {
        --level;
    }
    return level;
}

void inclusion_path(std::int64_t index, std::int64_t begin, std::int64_t end,
                    const NodeReader& read, std::vector<std::string>& out) {
    if (end - begin == 1) {
        return;
    }
    const std::int64_t k = split_point(end - begin);
    if (index < begin + k) {
        inclusion_path(index, begin, begin + k, read, out);
        out.push_back(range_hash(begin + k, end, read));
    } else {
        inclusion_path(index, begin + k, end, read, out);
        out.push_back(range_hash(begin, begin + k, read));
    }
}

// RFC 9162 SUBPROOF(m, D[begin:end], whole): the old tree is leaves [begin, begin + m).
void consistency_subproof(std::int64_t m, std::int64_t begin, std::int64_t end, bool whole,
                          const NodeReader& read, std::vector<std::string>& out) {
    const std::int64_t n = end - begin;
    if (m == n) {
        if (!whole) {
            out.push_back(range_hash(begin, end, read));
        }
        return;
    }
    const std::int64_t k = split_point(n);
    if (m <= k) {
        consistency_subproof(m, begin, begin + k, whole, read, out);
        out.push_back(range_hash(begin + k, end, read));
    } else {
        consistency_subproof(m - k, begin + k, end, false, read, out);
        out.push_back(range_hash(begin, begin + k, read));
    }
}

// Shifts fn and sn right until fn's lowest bit is set or fn is 0 (RFC 9162's inner loop).
void shift_to_set_bit(std::uint64_t& fn, std::uint64_t& sn) {
    while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
    }
}

} // namespace

std::string leaf_hash(std::string_view data) {
    return prefixed_sha256(0x00, data, {});
}

std::string node_hash(std::string_view left, std::string_view right) {
    return prefixed_sha256(0x01, left, right);
}

std::string empty_root() {
    return sha256("");
}

Frontier Frontier::starting_at(std::int64_t begin) {
    Frontier f;
    f.m_begin = begin;
    f.m_end = begin;
    return f;
}

Frontier Frontier::load(std::int64_t size, const NodeReader& read) {
    Frontier f;
    f.m_end = size;
    for (int level = 62; level >= 0; --level) {
        if ((size >> level & 1) != 0) {
            const NodeId id{level, (size >> level) - 1};
            f.m_nodes.push_back(Node{id, read(id)});
        }
    }
    return f;
}

std::optional<Frontier> Frontier::from_hashes(std::int64_t size,
                                              const std::vector<std::string>& hashes) {
    if (size < 0 || hashes.size() !=
                        static_cast<std::size_t>(std::popcount(static_cast<std::uint64_t>(size)))) {
        return std::nullopt;
    }
    for (const auto& h : hashes) {
        if (h.size() != 32) {
            return std::nullopt;
        }
    }
    std::size_t next = 0;
    return load(size, [&](NodeId) { return hashes[next++]; });
}

Frontier Frontier::join(const Frontier& left, const Frontier& right) {
    if (left.m_end != right.m_begin) {
        throw std::invalid_argument("merkle: joined ranges are not adjacent");
    }
    Frontier out = left;
    for (const auto& n : right.m_nodes) {
        out.m_nodes.push_back(n);
        out.merge_tail(nullptr);
    }
    out.m_end = right.m_end;
    return out;
}

void Frontier::merge_tail(const std::function<void(NodeId, const std::string&)>& stored) {
    while (m_nodes.size() >= 2) {
        const Node& left = m_nodes[m_nodes.size() - 2];
        const Node& right = m_nodes.back();
        if (left.id.level != right.id.level || left.id.index % 2 != 0 ||
            right.id.index != left.id.index + 1) {
            return;
        }
        Node parent{NodeId{left.id.level + 1, left.id.index / 2}, node_hash(left.hash, right.hash)};
        m_nodes.pop_back();
        m_nodes.back() = std::move(parent);
        if (stored) {
            stored(m_nodes.back().id, m_nodes.back().hash);
        }
    }
}

void Frontier::push(std::string leaf,
                    const std::function<void(NodeId, const std::string&)>& stored) {
    m_nodes.push_back(Node{NodeId{0, m_end}, std::move(leaf)});
    ++m_end;
    merge_tail(stored);
}

void Frontier::push(std::string leaf) {
    push(std::move(leaf), nullptr);
}

std::string Frontier::root() const {
    if (m_begin != 0) {
        throw std::logic_error("merkle: a range not starting at leaf 0 has no root");
    }
    if (m_nodes.empty()) {
        return empty_root();
    }
    std::string root = m_nodes.back().hash;
    for (auto it = m_nodes.rbegin() + 1; it != m_nodes.rend(); ++it) {
        root = node_hash(it->hash, root);
    }
    return root;
}

std::vector<std::string> Frontier::hashes() const {
    std::vector<std::string> out;
    out.reserve(m_nodes.size());
    for (const auto& n : m_nodes) {
        out.push_back(n.hash);
    }
    return out;
}

std::string tree_root(std::int64_t size, const NodeReader& read) {
    return size == 0 ? empty_root() : range_hash(0, size, read);
}

std::string range_hash(std::int64_t begin, std::int64_t end, const NodeReader& read) {
    if (begin < 0 || end <= begin) {
        throw std::invalid_argument("merkle: empty or negative leaf range");
    }
    std::vector<std::string> parts;
    while (begin < end) {
        const int level = largest_aligned_level(begin, end);
        parts.push_back(read(NodeId{level, begin >> level}));
        begin += std::int64_t{1} << level;
    }
    std::string hash = std::move(parts.back());
    for (auto it = parts.rbegin() + 1; it != parts.rend(); ++it) {
        hash = node_hash(*it, hash);
    }
    return hash;
}

std::vector<std::string> inclusion_proof(std::int64_t index, std::int64_t size,
                                         const NodeReader& read) {
    if (index < 0 || index >= size) {
        throw std::invalid_argument("merkle: leaf index outside the tree");
    }
    std::vector<std::string> out;
    inclusion_path(index, 0, size, read, out);
    return out;
}

std::vector<std::string> consistency_proof(std::int64_t old_size, std::int64_t new_size,
                                           const NodeReader& read) {
    if (old_size < 0 || new_size < old_size) {
        throw std::invalid_argument("merkle: the old tree is larger than the new one");
    }
    std::vector<std::string> out;
    if (old_size > 0 && old_size < new_size) {
        consistency_subproof(old_size, 0, new_size, true, read, out);
    }
    return out;
}

bool verify_inclusion(std::int64_t index, std::int64_t size, std::string_view leaf,
                      const std::vector<std::string>& proof, std::string_view root) {
    if (index < 0 || index >= size) {
        return false;
    }
    auto fn = static_cast<std::uint64_t>(index);
    auto sn = static_cast<std::uint64_t>(size - 1);
    std::string r(leaf);
    for (const auto& p : proof) {
        if (sn == 0) {
            return false;
        }
        if ((fn & 1) != 0 || fn == sn) {
            r = node_hash(p, r);
            shift_to_set_bit(fn, sn);
        } else {
            r = node_hash(r, p);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && r == root;
}

bool verify_consistency(std::int64_t old_size, std::int64_t new_size, std::string_view old_root,
                        std::string_view new_root, const std::vector<std::string>& proof) {
    if (old_size < 0 || new_size < old_size) {
        return false;
    }
    if (old_size == new_size) {
        return proof.empty() && old_root == new_root;
    }
    if (old_size == 0) {
        return proof.empty();
    }
    if (proof.empty()) {
        return false;
    }
    std::vector<std::string> path;
    if (std::has_single_bit(static_cast<std::uint64_t>(old_size))) {
        path.emplace_back(old_root);
    }
    path.insert(path.end(), proof.begin(), proof.end());
    auto fn = static_cast<std::uint64_t>(old_size - 1);
    auto sn = static_cast<std::uint64_t>(new_size - 1);
    while ((fn & 1) != 0) {
        fn >>= 1;
        sn >>= 1;
    }
    std::string fr = path[0];
    std::string sr = path[0];
    for (std::size_t i = 1; i < path.size(); ++i) {
        if (sn == 0) {
            return false;
        }
        const std::string& c = path[i];
        if ((fn & 1) != 0 || fn == sn) {
            fr = node_hash(c, fr);
            sr = node_hash(c, sr);
            shift_to_set_bit(fn, sn);
        } else {
            sr = node_hash(sr, c);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return fr == old_root && sr == new_root && sn == 0;
}

} // namespace lethe::crypto::merkle
