#pragma once

#include "audit/checkpoint.hpp"
#include "store/database.hpp"

#include <cstdint>
#include <string>
#include <vector>

// Inclusion and consistency proofs (RFC 9162) from the stored Merkle tree, against signed
// checkpoints (docs/audit-format.md, "Proofs"), and their JSON form, which Go's
// golang.org/x/mod/sumdb/tlog reads as is (hashes in Base64).
namespace lethe::audit {

// That entry `seq` is in the tree of `checkpoint`: `hashes` from the leaf up.
struct InclusionProof {
    Checkpoint checkpoint;
    std::string note; // the signed note of `checkpoint`
    std::int64_t seq = 0;
    std::string entry_hash; // hex; the leaf's data is its 32 bytes
    std::vector<std::string> hashes;
};

// That the tree of `old_cp` is a prefix of the tree of `new_cp`.
struct ConsistencyProof {
    Checkpoint old_cp;
    Checkpoint new_cp;
    std::string old_note;
    std::string new_note;
    std::vector<std::string> hashes;
};

// The inclusion proof of entry `seq` in the tree of the signed note `note` (opened with
// `key`), checked before it is returned. Throws lethe::Error (failure) when the note does not
// open, states no root (a legacy note), does not cover `seq`, or the log no longer has the
// note's root or the proof does not verify.
InclusionProof prove_inclusion(store::Database& db, const std::string& note, const TrustedKeys& key,
                               std::int64_t seq);

// The consistency proof from `old_note` to `new_note` (both opened with `key`), checked
// before it is returned. Throws lethe::Error (failure) when a note does not open or states no
// root, the old one is larger, the log no longer has the new root, or the proof does not
// verify (the new checkpoint does not extend the old one).
ConsistencyProof prove_consistency(store::Database& db, const std::string& old_note,
                                   const std::string& new_note, const TrustedKeys& key);

// True when `p` verifies (RFC 9162 2.1.3.2) against its checkpoint's root.
bool verify(const InclusionProof& p);
// True when `p` verifies (RFC 9162 2.1.4.2) against its two checkpoints' roots.
bool verify(const ConsistencyProof& p);

// One JSON object: seq, leaf_index, tree_size, entry_hash (hex), leaf_hash, root and proof
// (Base64, as tlog.Hash marshals), and the note.
std::string to_json(const InclusionProof& p);
// One JSON object: old_size, new_size, old_root, new_root, proof (Base64), old_note, new_note.
std::string to_json(const ConsistencyProof& p);
// Text for people: what is proved and the proof hashes in hex, one per line.
std::string to_text(const InclusionProof& p);
std::string to_text(const ConsistencyProof& p);

} // namespace lethe::audit
