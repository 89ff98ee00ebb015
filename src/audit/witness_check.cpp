#include "audit/witness_check.hpp"

#include "audit/chain.hpp"
#include "audit/checkpoint.hpp"
#include "audit/cosignature.hpp"
#include "audit/flat_json.hpp"
#include "crypto/merkle.hpp"
#include "store/audit_queries.hpp"
#include "store/witness_store.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <algorithm>

namespace lethe::audit {
namespace {

// A checkpoint note opened with the log's key, and who of the policy's witnesses cosigned it.
struct Witnessed {
    Checkpoint checkpoint;
    std::string source;
    std::vector<std::string> cosigners;
    std::int64_t earliest_time = 0; // of the cosignatures, POSIX seconds
};

std::vector<std::string> witness_names(const WitnessPolicy& policy) {
    std::vector<std::string> names;
    for (const auto& w : policy.witnesses) {
        names.push_back(w.name);
    }
    return names;
}

std::int64_t required(const WitnessPolicy& policy) {
    return std::max<std::int64_t>(policy.quorum, 1);
}

// Opens `note` with the log's key and checks its cosignatures. A cosignature line of a trusted
// witness that does not verify is a problem (someone forged or altered it).
std::optional<Witnessed> open_witnessed(const std::string& note, const std::string& source,
                                        const TrustedKeys& key, const WitnessPolicy& policy,
                                        VerifyReport& report) {
    std::string error;
    auto cp = open_checkpoint(note, key, error);
    auto parsed = cp ? parse_note(note, error) : std::nullopt;
    if (!parsed) {
        report.problem = VerifyProblem{std::nullopt, source, error};
        return std::nullopt;
    }
    Witnessed w{std::move(*cp), source, {}, 0};
    for (const auto& witness : policy.witnesses) {
        const auto check = check_cosignature(*parsed, witness);
        if (check.check == CosignatureCheck::bad_signature) {
            report.problem =
                VerifyProblem{std::nullopt, source,
                              "the cosignature of witness " + witness.name + " does not verify"};
            return std::nullopt;
        }
        if (check.check == CosignatureCheck::ok &&
            std::find(w.cosigners.begin(), w.cosigners.end(), witness.name) == w.cosigners.end()) {
            w.cosigners.push_back(witness.name);
            w.earliest_time =
                w.earliest_time == 0 ? check.time : std::min(w.earliest_time, check.time);
        }
    }
    return w;
}

std::string describe(const Witnessed& w) {
    std::string names;
    for (const auto& n : w.cosigners) {
        names += (names.empty() ? "" : ", ") + n;
    }
    return w.source + ": size " + std::to_string(w.checkpoint.size) + ", cosigned by " +
           std::to_string(w.cosigners.size()) + " trusted witness(es)" +
           (names.empty() ? ""
                          : " (" + names + "), first at " + format_iso8601(w.earliest_time * 1000));
}

void require_quorum(bool met, const WitnessPolicy& policy, VerifyReport& report) {
    if (!met && policy.quorum > 0 && !report.problem) {
        report.problem = VerifyProblem{
            std::nullopt, "",
            "no checkpoint carries " + std::to_string(policy.quorum) +
                " cosignature(s) by the given witnesses: the evidence is not witnessed (a log "
                "rewritten by whoever holds the checkpoint key looks exactly like this)"};
    }
}

std::string member(const FlatJsonParser& p, std::string_view name) {
    const auto* v = p.get(name);
    return v != nullptr && v->kind == FlatJsonValue::Kind::string ? std::string(v->text) : "";
}

// The trailer's witnessed_note, checked against head_note with witnessed_proof.
std::optional<Witnessed> trailer_witnessed(const FlatJsonParser& p, const Checkpoint& head,
                                           const TrustedKeys& key, const WitnessPolicy& policy,
                                           VerifyReport& report) {
    const std::string note = member(p, "witnessed_note");
    if (note.empty()) {
        report.notes.push_back("the export carries no witnessed checkpoint");
        return std::nullopt;
    }
    auto w = open_witnessed(note, "witnessed_note", key, policy, report);
    if (!w) {
        return std::nullopt;
    }
    std::vector<std::string> proof;
    const auto& cp = w->checkpoint;
    if (cp.legacy() || cp.size > head.size ||
        !parse_hex_list(member(p, "witnessed_proof"), proof) ||
        !crypto::merkle::verify_consistency(cp.size, head.size, *from_hex(cp.root_hash),
                                            *from_hex(head.root_hash), proof)) {
        report.problem = VerifyProblem{std::nullopt, "witnessed_proof",
                                       "does not prove that head_note extends witnessed_note"};
        return std::nullopt;
    }
    return w;
}

} // namespace

void check_database_witnesses(store::Database& db, const TrustedKeys& key,
                              const WitnessPolicy& policy,
                              const std::vector<std::filesystem::path>& checkpoint_files,
                              VerifyReport& report) {
    if (policy.witnesses.empty()) {
        return;
    }
    std::vector<std::pair<std::string, std::string>> notes; // (source, note)
    if (auto stored = store::latest_witnessed(db, witness_names(policy), required(policy))) {
        notes.emplace_back("checkpoint #" + std::to_string(stored->id) + " in the database",
                           store::note_with_cosignatures(db, stored->id, stored->note));
    }
    for (const auto& f : checkpoint_files) {
        notes.emplace_back("checkpoint " + f.string(), read_file(f, FileKind::checkpoint_note));
    }
    bool met = false;
    for (const auto& [source, note] : notes) {
        auto w = open_witnessed(note, source, key, policy, report);
        if (!w) {
            return;
        }
        report.notes.push_back(describe(*w));
        if (static_cast<std::int64_t>(w->cosigners.size()) < required(policy)) {
            continue;
        }
        try {
            store::AuditSnapshot snap(db);
            check_log_extends(db, snap, {KnownCheckpoint{w->checkpoint, w->source}},
                              snap.head().size, "witnessed checkpoint");
        } catch (const Error& e) {
            report.problem = VerifyProblem{std::nullopt, "", e.what()};
            return;
        }
        met = true;
    }
    require_quorum(met, policy, report);
}

void check_export_witnesses(const TrustedKeys& key, const WitnessPolicy& policy,
                            const std::vector<std::filesystem::path>& checkpoint_files,
                            VerifyReport& report) {
    if (policy.witnesses.empty()) {
        return;
    }
    FlatJsonParser p;
    std::string error;
    if (!p.parse(report.trailer_line, error)) {
        report.problem = VerifyProblem{std::nullopt, "checkpoint line", error};
        return;
    }
    const auto head = open_checkpoint(member(p, "head_note"), key, error);
    if (!head || head->legacy()) {
        report.problem = VerifyProblem{std::nullopt, "checkpoint line",
                                       "an export with witnesses needs format 2 or later"};
        return;
    }
    bool met = false;
    if (auto w = trailer_witnessed(p, *head, key, policy, report)) {
        report.notes.push_back(describe(*w));
        met = static_cast<std::int64_t>(w->cosigners.size()) >= required(policy);
    }
    if (report.problem) {
        return;
    }
    for (const auto& f : checkpoint_files) {
        auto w = open_witnessed(read_file(f, FileKind::checkpoint_note), "checkpoint " + f.string(),
                                key, policy, report);
        if (!w) {
            return;
        }
        report.notes.push_back(describe(*w));
        const auto& cp = w->checkpoint;
        if (static_cast<std::int64_t>(w->cosigners.size()) >= required(policy) &&
            cp.size == head->size && cp.root_hash == head->root_hash) {
            met = true;
        }
    }
    require_quorum(met, policy, report);
}

} // namespace lethe::audit
