#include "audit/proofs.hpp"

#include "crypto/merkle.hpp"
#include "store/audit_queries.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

#include <nlohmann/json.hpp>

namespace lethe::audit {
namespace {

namespace merkle = crypto::merkle;

Checkpoint open_rooted(const std::string& note, const TrustedKeys& key, std::string_view what) {
    std::string error;
    auto cp = open_checkpoint(note, key, error);
    if (!cp) {
        throw Error(ExitCode::failure, std::string(what) + ": " + error);
    }
    if (cp->legacy()) {
        throw Error(ExitCode::failure,
                    std::string(what) +
                        ": a checkpoint of lethe before the Merkle tree states no root, so no "
                        "proof can refer to it; compare it with the log by `lethe audit verify "
                        "--checkpoint`");
    }
    return *cp;
}

// The log must still have the checkpoint's root: proofs are made from its stored subtrees.
void require_root(store::AuditSnapshot& snap, const Checkpoint& cp, std::string_view what) {
    if (cp.size > snap.head().size) {
        throw Error(ExitCode::failure, std::string(what) + ": covers " + std::to_string(cp.size) +
                                           " entries but the log has " +
                                           std::to_string(snap.head().size) +
                                           " (entries were removed from the end)");
    }
    if (to_hex(snap.tree_root(cp.size)) != cp.root_hash) {
        throw Error(ExitCode::failure, std::string(what) + ": the log's Merkle root at size " +
                                           std::to_string(cp.size) +
                                           " differs (the log was rewritten)");
    }
}

nlohmann::json base64_list(const std::vector<std::string>& hashes) {
    auto out = nlohmann::json::array();
    for (const auto& h : hashes) {
        out.push_back(crypto::base64_encode(h));
    }
    return out;
}

std::string b64_of_hex(const std::string& hex) {
    return crypto::base64_encode(*from_hex(hex));
}

std::string hex_lines(const std::vector<std::string>& hashes) {
    std::string out;
    for (const auto& h : hashes) {
        out += "  " + to_hex(h) + "\n";
    }
    return out;
}

} // namespace

InclusionProof prove_inclusion(store::Database& db, const std::string& note, const TrustedKeys& key,
                               std::int64_t seq) {
    InclusionProof p;
    p.checkpoint = open_rooted(note, key, "checkpoint");
    p.note = note;
    p.seq = seq;
    if (seq < 1 || seq > p.checkpoint.size) {
        throw Error(ExitCode::failure, "seq " + std::to_string(seq) +
                                           ": not in the checkpoint's tree of " +
                                           std::to_string(p.checkpoint.size) + " entries");
    }
    store::AuditSnapshot snap(db);
    require_root(snap, p.checkpoint, "checkpoint");
    p.entry_hash = *snap.hash_at(seq);
    p.hashes = merkle::inclusion_proof(seq - 1, p.checkpoint.size, snap.tree_reader());
    if (!verify(p)) {
        throw Error(ExitCode::failure, "seq " + std::to_string(seq) +
                                           ": the inclusion proof does not verify (the stored "
                                           "tree was rewritten; run `lethe audit verify`)");
    }
    return p;
}

ConsistencyProof prove_consistency(store::Database& db, const std::string& old_note,
                                   const std::string& new_note, const TrustedKeys& key) {
    ConsistencyProof p;
    p.old_cp = open_rooted(old_note, key, "old checkpoint");
    p.new_cp = open_rooted(new_note, key, "new checkpoint");
    p.old_note = old_note;
    p.new_note = new_note;
    if (p.old_cp.size > p.new_cp.size) {
        throw Error(ExitCode::failure, "the old checkpoint (size " + std::to_string(p.old_cp.size) +
                                           ") is larger than the new one (size " +
                                           std::to_string(p.new_cp.size) + "); swap them");
    }
    store::AuditSnapshot snap(db);
    require_root(snap, p.new_cp, "new checkpoint");
    p.hashes = merkle::consistency_proof(p.old_cp.size, p.new_cp.size, snap.tree_reader());
    if (!verify(p)) {
        throw Error(ExitCode::failure,
                    "the new checkpoint (size " + std::to_string(p.new_cp.size) +
                        ") does not extend the old one (size " + std::to_string(p.old_cp.size) +
                        "): no consistency proof verifies; the log was rewritten or forked");
    }
    return p;
}

bool verify(const InclusionProof& p) {
    return merkle::verify_inclusion(p.seq - 1, p.checkpoint.size,
                                    merkle::leaf_hash(*from_hex(p.entry_hash)), p.hashes,
                                    *from_hex(p.checkpoint.root_hash));
}

bool verify(const ConsistencyProof& p) {
    return merkle::verify_consistency(p.old_cp.size, p.new_cp.size, *from_hex(p.old_cp.root_hash),
                                      *from_hex(p.new_cp.root_hash), p.hashes);
}

std::string to_json(const InclusionProof& p) {
    nlohmann::ordered_json j;
    j["seq"] = p.seq;
    j["leaf_index"] = p.seq - 1;
    j["tree_size"] = p.checkpoint.size;
    j["entry_hash"] = p.entry_hash;
    j["leaf_hash"] = crypto::base64_encode(merkle::leaf_hash(*from_hex(p.entry_hash)));
    j["root"] = b64_of_hex(p.checkpoint.root_hash);
    j["proof"] = base64_list(p.hashes);
    j["note"] = p.note;
    return j.dump() + "\n";
}

std::string to_json(const ConsistencyProof& p) {
    nlohmann::ordered_json j;
    j["old_size"] = p.old_cp.size;
    j["new_size"] = p.new_cp.size;
    j["old_root"] = b64_of_hex(p.old_cp.root_hash);
    j["new_root"] = b64_of_hex(p.new_cp.root_hash);
    j["proof"] = base64_list(p.hashes);
    j["old_note"] = p.old_note;
    j["new_note"] = p.new_note;
    return j.dump() + "\n";
}

std::string to_text(const InclusionProof& p) {
    return "entry seq " + std::to_string(p.seq) + " (hash " + p.entry_hash +
           ") is in the tree of " + std::to_string(p.checkpoint.size) + " entries with root " +
           p.checkpoint.root_hash + "\ninclusion proof (RFC 9162), " +
           std::to_string(p.hashes.size()) + " hashes from the leaf up:\n" + hex_lines(p.hashes) +
           "verified\n";
}

std::string to_text(const ConsistencyProof& p) {
    return "the tree of " + std::to_string(p.new_cp.size) + " entries (root " + p.new_cp.root_hash +
           ") extends the tree of " + std::to_string(p.old_cp.size) + " entries (root " +
           p.old_cp.root_hash + ")\nconsistency proof (RFC 9162), " +
           std::to_string(p.hashes.size()) + " hashes:\n" + hex_lines(p.hashes) + "verified\n";
}

} // namespace lethe::audit
