#pragma once

#include "audit/cosignature.hpp"
#include "audit/note.hpp"
#include "crypto/merkle.hpp"

#include <memory>
#include <string>
#include <vector>

namespace lethe::test {

// A transparency log kept in memory for the witness tests: leaves, the tree's roots and proofs,
// checkpoints signed with its own key under `origin`.
struct LogModel {
    std::string origin = "lethe.test/log";
    // Shared, so that a copy (a forked log) signs with the same key unless it is given another.
    std::shared_ptr<crypto::Ed25519Key> key =
        std::make_shared<crypto::Ed25519Key>(crypto::Ed25519Key::generate());
    std::vector<std::string> leaves; // leaf hashes

    void grow(int n, const std::string& tag = "entry") {
        for (int i = 0; i < n; ++i) {
            leaves.push_back(crypto::merkle::leaf_hash(tag + std::to_string(leaves.size())));
        }
    }
    // The hash of leaves [begin, end) of a complete subtree.
    std::string node(crypto::merkle::NodeId id) const {
        if (id.level == 0) {
            return leaves.at(static_cast<std::size_t>(id.index));
        }
        return crypto::merkle::node_hash(node({id.level - 1, id.index * 2}),
                                         node({id.level - 1, id.index * 2 + 1}));
    }
    crypto::merkle::NodeReader reader() const {
        return [this](crypto::merkle::NodeId id) {
            return node(id);
        };
    }
    std::string root(std::int64_t size) const { return crypto::merkle::tree_root(size, reader()); }
    audit::NoteVerifierKey verifier() const { return audit::note_verifier_key(origin, *key); }
    // A signed checkpoint of the first `size` leaves (with a chain-head line as lethe writes).
    std::string checkpoint(std::int64_t size) const {
        const std::string text = origin + "\n" + std::to_string(size) + "\n" +
                                 crypto::base64_encode(root(size)) + "\nchain-head " +
                                 std::string(64, 'a') + "\n";
        return audit::sign_note(text, origin, *key);
    }
    // An add-checkpoint body from `old_size` to `size`.
    std::string body(std::int64_t old_size, std::int64_t size) const {
        std::string b = "old " + std::to_string(old_size) + "\n";
        if (old_size > 0) {
            for (const auto& h : crypto::merkle::consistency_proof(old_size, size, reader())) {
                b += crypto::base64_encode(h) + "\n";
            }
        }
        return b + "\n" + checkpoint(size);
    }
};

// A second handle on a witness key (the key itself is move-only).
inline audit::WitnessKey copy_of(const audit::WitnessKey& k) {
    std::string error;
    return std::move(*audit::parse_witness_key(audit::witness_key_file_text(k), error));
}

} // namespace lethe::test
