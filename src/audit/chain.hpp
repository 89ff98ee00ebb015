#pragma once

#include "crypto/crypto.hpp"
#include "crypto/merkle.hpp"
#include "store/audit_queries.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Streaming verification of the hash chain (docs/audit-format.md, "Entries" and "Verifying").
namespace lethe::audit {

using store::AuditEntryView;

// The first problem found: the seq of the first bad entry and what is wrong with it.
struct ChainFailure {
    std::int64_t seq = 0;
    std::string what;
};

// Computes entry hashes without allocating per entry: one reusable encoding buffer and one
// digest context.
class EntryHasher {
public:
    EntryHasher();
    // The lower-case hex SHA-256 of the entry's encoding (its `hash` field is ignored); the
    // returned view is valid until the next call. Throws std::runtime_error if OpenSSL fails.
    std::string_view hash_hex(const AuditEntryView& e);

private:
    struct MdDeleter {
        void operator()(EVP_MD* md) const;
    };
    std::unique_ptr<EVP_MD, MdDeleter> m_md;
    crypto::EvpMdCtxPtr m_ctx;
    std::string m_buf;
    std::array<char, 64> m_hex{};
};

// Checks entries one at a time, in order: seq without gaps, prev_hash linking to the previous
// entry's hash, the hash recomputed from the contents, and the (size, head hash) pairs of
// checkpoints it was told to expect. Stops at the first problem.
class ChainVerifier {
public:
    // A chain that must start at seq 1 with the genesis prev_hash.
    static ChainVerifier from_genesis();
    // A chain whose first entry must be `first_seq` with prev_hash `prev_hash` (a checkpoint).
    static ChainVerifier anchored(std::int64_t first_seq, std::string prev_hash);
    // A chain anchored by its own first entry (a range export: its first prev_hash is taken as
    // given and must be vouched for by a signature over a later hash).
    static ChainVerifier self_anchored();

    // Expects the entry at seq `size` to have hash `hash` (size 0: the genesis hash) and, when
    // `root` (hex) is not empty and the tree is tracked, the first `size` entries to have that
    // Merkle root; `source` names the checkpoint in messages.
    void expect(std::int64_t size, std::string hash, std::string root, std::string source);
    // Tracks the Merkle tree from `start`, the tree of the entries before the first one to come
    // (a chain from the genesis tracks it from the empty tree by itself).
    void track_tree(crypto::merkle::Frontier start) { m_tree = std::move(start); }
    // Calls `observer` with every complete subtree of level >= 1 the tracked tree gets.
    void
    observe_subtrees(std::function<void(crypto::merkle::NodeId, const std::string&)> observer) {
        m_observer = std::move(observer);
    }
    // The Merkle tree of the entries so far, when tracked (self-anchored: the compact range from
    // the first entry, which has a root only when that is seq 1).
    const std::optional<crypto::merkle::Frontier>& tree() const { return m_tree; }

    // Expectations outside the entries seen (before the first one, after the last) are set aside
    // instead of failing (an export: a checkpoint of another part of the log); see outside().
    void set_aside_outside() { m_set_aside = true; }
    // A checkpoint expectation that could not be compared with the entries.
    struct Outside {
        std::int64_t size = 0;
        std::string hash;
        std::string root;
        std::string source;
    };
    // The expectations set aside (after finish()).
    const std::vector<Outside>& outside() const { return m_outside; }

    // Checks the next entry; returns false once a problem is found (see failure()).
    bool add(const AuditEntryView& e);
    // Checks what can only be checked at the end (expected sizes beyond the last entry); returns
    // false when there is a problem.
    bool finish();

    // The first problem, if any.
    const std::optional<ChainFailure>& failure() const { return m_failure; }
    std::int64_t count() const { return m_count; }
    // Seq of the first and last entry seen (0 when none).
    std::int64_t first_seq() const { return m_first_seq; }
    std::int64_t last_seq() const { return m_last_seq; }
    // Hash of the last entry seen (the anchor's prev_hash when none).
    const std::string& last_hash() const { return m_last_hash; }
    // The prev_hash of the first entry seen (the anchor of the chain).
    const std::string& first_prev_hash() const { return m_first_prev_hash; }

private:
    ChainVerifier() = default;
    bool fail(std::int64_t seq, std::string what);
    bool check_expectations_at(std::int64_t seq, std::string_view hash);

    EntryHasher m_hasher;
    std::optional<std::int64_t> m_next_seq;
    std::optional<std::string> m_prev_hash;
    struct Expectation {
        std::string hash;
        std::string root;
        std::string source;
    };
    std::optional<crypto::merkle::Frontier> m_tree;
    std::function<void(crypto::merkle::NodeId, const std::string&)> m_observer;
    bool m_set_aside = false;
    std::vector<Outside> m_outside;
    void set_aside_while(const std::function<bool(std::int64_t)>& outside);
    bool m_tree_from_first = false; // self-anchored: track the range from the first entry
    std::multimap<std::int64_t, Expectation> m_expect;
    std::optional<ChainFailure> m_failure;
    std::int64_t m_count = 0;
    std::int64_t m_first_seq = 0;
    std::int64_t m_last_seq = 0;
    std::string m_last_hash;
    std::string m_first_prev_hash;
};

// True when `s` is 64 lower-case hex digits (the form of every hash and digest).
bool is_hash_hex(std::string_view s);

// Splits hashes written as 64-hex-digit words separated by single spaces (empty: none) into raw
// 32-byte hashes; false when a word is not 64 lower-case hex digits.
bool parse_hex_list(std::string_view text, std::vector<std::string>& out);

} // namespace lethe::audit
