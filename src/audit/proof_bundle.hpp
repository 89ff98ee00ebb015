#pragma once

#include "audit/checkpoint.hpp"
#include "audit/note.hpp"
#include "audit/verify.hpp"
#include "audit/witness_check.hpp"
#include "config/config.hpp"
#include "store/audit_log.hpp"
#include "store/database.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Per-subject proof bundles (`lethe audit proof`, `lethe audit verify-proof`): one data
// subject's entries, an inclusion proof of each against one signed checkpoint, that checkpoint's
// note verbatim and a signed statement binding them (docs/audit-format.md, "Proof bundles").
// Nothing of any other subject is in a bundle but hashes.
namespace lethe::audit {

// The statement tag and header "format" of a bundle.
inline constexpr std::string_view k_bundle_format = "lethe-subject-proof/1";

// The digests of the subject of request `request_id`: its digest and, when it was digested
// again (subject digest v2), the previous one its `request.redigested` entries name. Throws
// lethe::Error (failure) when there is no such request.
std::vector<std::string> request_digests(store::Database& db, std::string_view request_id);

// What make_proof_bundle wrote.
struct ProofBundle {
    std::string text;           // the bundle file's bytes
    std::int64_t entries = 0;   // the subject's entries in it
    std::int64_t tree_size = 0; // the size of the checkpoint they are proved against
    bool signed_now = false;    // true when a checkpoint was signed for it
};

// The bundle of the entries with any of `digests` (1 or 2), proved against the latest stored
// checkpoint when it covers them, else against one signed now (write_checkpoint). Throws
// lethe::Error (failure) when the subject has no entries or the log no longer has the
// checkpoint's root, ConfigError for a bad checkpoint key.
ProofBundle make_proof_bundle(store::Database& db, const config::Config& cfg, const Clock& clock,
                              const std::vector<std::string>& digests);

// One entry of a bundle and its inclusion proof (raw hashes, from the leaf up).
struct BundleEntry {
    store::AuditEntry entry;
    std::vector<std::string> proof;
};

// The bundle's bytes for `entries` (seq order) of the subject with `digests`, proved against the
// checkpoint `note` of size `tree_size`, with the statement signed by `signer`. Throws
// std::invalid_argument when `note` is not a signed note.
std::string assemble_bundle(const CheckpointSigner& signer, const std::string& note,
                            std::int64_t tree_size, const std::vector<std::string>& digests,
                            const std::vector<BundleEntry>& entries);

// Whom a bundle's verifier trusts: the checkpoint key and, when `witnesses.quorum` > 0, that
// many cosignatures by the witnesses on the checkpoint.
struct BundleTrust {
    TrustedKeys key;
    WitnessPolicy witnesses;
};

// Opens the bundle's checkpoint note: a signature by the trusted key must verify (signature
// lines by other keys are ignored), its text must be a checkpoint with a root whose origin is
// the key's name. Returns nullopt (reason in `error`) otherwise.
std::optional<Checkpoint> open_bundle_checkpoint(const ParsedNote& note, const BundleTrust& trust,
                                                 std::string& error);

// Checks a bundle offline: the signed statement, every entry's hash from its contents and its
// subject digest, each inclusion proof against the checkpoint's root, the checkpoint's
// signature. The first problem (named by line) is in the report; `count` is the entries proved.
VerifyReport verify_proof_bundle(std::string_view bundle, const BundleTrust& trust);

} // namespace lethe::audit
