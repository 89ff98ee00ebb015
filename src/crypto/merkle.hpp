#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// RFC 6962 / RFC 9162 Merkle tree hashing and proofs (docs/audit-format.md, "Merkle tree").
// Every hash here is 32 raw bytes held in a std::string; nothing here knows where hashes are
// stored: proofs read complete subtrees through a NodeReader.
namespace lethe::crypto::merkle {

// A complete subtree: level `level` (0 = a leaf), covering leaves [index << level,
// (index + 1) << level). The same numbering as Go's tlog stored hashes.
struct NodeId {
    int level = 0;
    std::int64_t index = 0;
    bool operator==(const NodeId&) const = default;
};

// Returns the hash of a complete subtree; throws when it cannot (the caller's error type).
using NodeReader = std::function<std::string(NodeId)>;

// SHA-256(0x00 || data): the hash of a leaf whose data is `data`.
std::string leaf_hash(std::string_view data);

// SHA-256(0x01 || left || right): the hash of an interior node.
std::string node_hash(std::string_view left, std::string_view right);

// The root of the empty tree: SHA-256 of no bytes.
std::string empty_root();

// A compact range: the hashes of the largest aligned complete subtrees that make up leaves
// [begin, end), left to right. From begin 0 it is the frontier of a tree that grows at its
// right edge (at most 63 hashes), and its root is the tree's root.
class Frontier {
public:
    // The empty range at 0: a tree of 0 leaves.
    Frontier() = default;
    // The empty range at `begin`: leaves will be added from there.
    static Frontier starting_at(std::int64_t begin);
    // The frontier of a tree of `size` leaves, its subtree hashes read through `read`.
    static Frontier load(std::int64_t size, const NodeReader& read);
    // The frontier of a tree of `size` leaves from its subtree hashes left to right (as hashes()
    // gives them); nullopt when their number does not fit `size` or one is not 32 bytes.
    static std::optional<Frontier> from_hashes(std::int64_t size,
                                               const std::vector<std::string>& hashes);
    // The range [left.begin, right.end) from two adjacent ranges (left.end == right.begin).
    // Throws std::invalid_argument when they are not adjacent.
    static Frontier join(const Frontier& left, const Frontier& right);

    // Adds a leaf hash; `stored` is called with each complete subtree of level >= 1 that this
    // leaf completes (the nodes to keep so proofs are cheap), lowest first.
    void push(std::string leaf, const std::function<void(NodeId, const std::string&)>& stored);
    // Adds a leaf hash without reporting completed subtrees.
    void push(std::string leaf);
    // The tree's root (empty_root() for 0 leaves). Throws std::logic_error unless begin is 0.
    std::string root() const;
    std::int64_t begin() const { return m_begin; }
    // The end of the range: for a tree, its size.
    std::int64_t size() const { return m_end; }
    // The subtree hashes, left to right.
    std::vector<std::string> hashes() const;

private:
    struct Node {
        NodeId id;
        std::string hash;
    };
    // Merges the last two nodes while they are siblings, reporting each new node.
    void merge_tail(const std::function<void(NodeId, const std::string&)>& stored);
    std::vector<Node> m_nodes;
    std::int64_t m_begin = 0;
    std::int64_t m_end = 0;
};

// The root of a tree of `size` leaves from its complete subtrees (O(log size) reads).
std::string tree_root(std::int64_t size, const NodeReader& read);

// The hash of leaves [begin, end), 0 <= begin < end: the combination of the largest aligned
// complete subtrees it consists of.
std::string range_hash(std::int64_t begin, std::int64_t end, const NodeReader& read);

// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162 2.1.3.1), from
// the leaf up. Throws std::invalid_argument unless 0 <= index < size.
std::vector<std::string> inclusion_proof(std::int64_t index, std::int64_t size,
                                         const NodeReader& read);

// The consistency proof from `old_size` to `new_size` leaves (RFC 9162 2.1.4.1); empty when
// old_size is 0 or equals new_size. Throws std::invalid_argument unless 0 <= old <= new.
std::vector<std::string> consistency_proof(std::int64_t old_size, std::int64_t new_size,
                                           const NodeReader& read);

// True when `proof` shows that `leaf` is leaf `index` of the tree of `size` leaves with root
// `root` (RFC 9162 2.1.3.2).
bool verify_inclusion(std::int64_t index, std::int64_t size, std::string_view leaf,
                      const std::vector<std::string>& proof, std::string_view root);

// True when `proof` shows that the tree (`old_size`, `old_root`) is a prefix of the tree
// (`new_size`, `new_root`) (RFC 9162 2.1.4.2; old_size 0: an empty proof, any new tree).
bool verify_consistency(std::int64_t old_size, std::int64_t new_size, std::string_view old_root,
                        std::string_view new_root, const std::vector<std::string>& proof);

} // namespace lethe::crypto::merkle
