#include "audit/proof_bundle.hpp"

#include "audit/chain.hpp"
#include "audit/cosignature.hpp"
#include "audit/export.hpp"
#include "audit/flat_json.hpp"
#include "audit/proofs.hpp"
#include "audit/statement.hpp"
#include "store/audit_queries.hpp"
#include "store/witness_store.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace lethe::audit {
namespace {

// The statement's member names (docs/audit-format.md, "Proof bundles").
constexpr std::string_view k_origin = "origin";
constexpr std::string_view k_digest = "subject_digest";
constexpr std::string_view k_tree_size = "tree_size";
constexpr std::string_view k_checkpoint = "checkpoint";
constexpr std::string_view k_entry = "entry";

// Entries of the subject, by seq (each digest's entries once).
std::map<std::int64_t, store::AuditEntry> subject_entries(store::Database& db,
                                                          const std::vector<std::string>& digests) {
    std::map<std::int64_t, store::AuditEntry> out;
    for (const auto& d : digests) {
        store::for_each_subject_entry(
            db, d, [&out](const store::AuditEntry& e) { out.emplace(e.seq, e); });
    }
    return out;
}

// The note of the latest stored checkpoint when it opens with `key`, has a root and covers
// `last_seq`; else the note of a checkpoint signed now.
std::string covering_note(store::Database& db, const config::Config& cfg, const Clock& clock,
                          const TrustedKeys& key, std::int64_t last_seq, bool& signed_now) {
    std::string error;
    // The newest witnessed checkpoint that covers the entries, with its cosignatures.
    if (auto w = store::latest_witnessed(db, config::witness_names(cfg), cfg.audit.witness_quorum);
        w && w->size >= last_seq) {
        auto note = store::note_with_cosignatures(db, w->id, w->note);
        if (auto cp = open_checkpoint(note, key, error); cp && !cp->legacy()) {
            return note;
        }
    }
    std::optional<store::StoredCheckpoint> stored;
    {
        store::AuditSnapshot snap(db);
        stored = snap.latest_checkpoint();
    }
    if (stored) {
        auto cp = open_checkpoint(stored->note, key, error);
        // As stored, with whatever cosignatures it has.
        if (cp && !cp->legacy() && cp->size >= last_seq) {
            return store::note_with_cosignatures(db, stored->id, stored->note);
        }
    }
    signed_now = true;
    const auto path = write_checkpoint(db, cfg, clock);
    {
        store::AuditSnapshot snap(db);
        stored = snap.latest_checkpoint();
    }
    if (stored && stored->size >= last_seq && open_checkpoint(stored->note, key, error)) {
        return stored->note;
    }
    return read_file(path, FileKind::checkpoint_note);
}

// A flat JSON line, members in the order given.
std::string json_line(const nlohmann::ordered_json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict) + "\n";
}

std::string space_hex(const std::vector<std::string>& hashes) {
    std::string out;
    for (const auto& h : hashes) {
        out += (out.empty() ? "" : " ") + to_hex(h);
    }
    return out;
}

} // namespace

std::vector<std::string> request_digests(store::Database& db, std::string_view request_id) {
    auto digest = store::request_subject_digest(db, request_id);
    if (!digest) {
        throw Error(ExitCode::failure, "request " + std::string(request_id) + ": no such request");
    }
    std::vector<std::string> out{*digest};
    // Written before subject digest v2, its entries may carry the digest it had then.
    store::for_each_subject_entry(db, *digest, [&out](const store::AuditEntry& e) {
        if (e.event != "request.redigested") {
            return;
        }
        auto detail = nlohmann::json::parse(e.detail, nullptr, false);
        if (detail.is_object() && detail.contains("previous_digest") &&
            detail["previous_digest"].is_string()) {
            const auto previous = detail["previous_digest"].get<std::string>();
            if (is_hash_hex(previous) && std::find(out.begin(), out.end(), previous) == out.end()) {
                out.push_back(previous);
            }
        }
    });
    return out;
}

ProofBundle make_proof_bundle(store::Database& db, const config::Config& cfg, const Clock& clock,
                              const std::vector<std::string>& digests) {
    const auto entries = subject_entries(db, digests);
    if (entries.empty()) {
        throw Error(ExitCode::failure,
                    "no audit entries for this subject: there is nothing to prove (check the "
                    "identifier or request id, and that this is the installation's subject key)");
    }
    const auto signer = CheckpointSigner::from_config(cfg);
    // Only a checkpoint the current key signed: a verifier given the new key alone after a key
    // rotation must be able to check the bundle.
    const TrustedKeys key(signer.verifier_key());
    ProofBundle bundle;
    const std::string note =
        covering_note(db, cfg, clock, key, entries.rbegin()->first, bundle.signed_now);
    std::vector<BundleEntry> proved;
    for (const auto& [seq, e] : entries) {
        // Checked against the log's root before it is returned (audit/proofs).
        auto proof = prove_inclusion(db, note, key, seq);
        if (proof.entry_hash != e.hash) {
            throw Error(ExitCode::failure, "seq " + std::to_string(seq) +
                                               ": the entry changed while it was read (run "
                                               "`lethe audit verify`)");
        }
        bundle.tree_size = proof.checkpoint.size;
        proved.push_back(BundleEntry{e, std::move(proof.hashes)});
    }
    bundle.text = assemble_bundle(signer, note, bundle.tree_size, digests, proved);
    bundle.entries = static_cast<std::int64_t>(proved.size());
    return bundle;
}

std::string assemble_bundle(const CheckpointSigner& signer, const std::string& note,
                            std::int64_t tree_size, const std::vector<std::string>& digests,
                            const std::vector<BundleEntry>& entries) {
    std::string error;
    const auto parsed = parse_note(note, error);
    if (!parsed) {
        throw std::invalid_argument("assemble_bundle: the checkpoint note: " + error);
    }
    Statement statement{std::string(k_bundle_format), {}};
    statement.add(std::string(k_origin), signer.origin());
    for (const auto& d : digests) {
        statement.add(std::string(k_digest), d);
    }
    statement.add(std::string(k_tree_size), std::to_string(tree_size));
    statement.add(std::string(k_checkpoint), to_hex(crypto::sha256(parsed->text)));
    std::string body;
    for (const auto& [e, proof] : entries) {
        statement.add(std::string(k_entry), std::to_string(e.seq) + " " + e.hash);
        body += jsonl_entry_line(store::AuditEntryView{
            e.seq, e.at, e.event, e.request_ref, e.subject_digest, e.detail, e.prev_hash, e.hash});
        nlohmann::ordered_json inclusion;
        inclusion["type"] = "inclusion";
        inclusion["seq"] = e.seq;
        inclusion["proof"] = space_hex(proof);
        body += json_line(inclusion);
    }
    nlohmann::ordered_json header;
    header["type"] = "subject-proof";
    header["format"] = k_bundle_format;
    header["statement"] = signer.sign_statement(statement);
    nlohmann::ordered_json checkpoint;
    checkpoint["type"] = "checkpoint";
    checkpoint["note"] = note;
    return json_line(header) + body + json_line(checkpoint);
}

std::optional<Checkpoint> open_bundle_checkpoint(const ParsedNote& note, const BundleTrust& trust,
                                                 std::string& error) {
    if (const NoteCheck check = check_note(note, trust.key); check != NoteCheck::ok) {
        error = std::string(describe(check)) + " (trusted key " + trust.key.name() + ")";
        return std::nullopt;
    }
    // Witness cosignatures (C2SP tlog-cosignature) are counted against the quorum.
    for (const auto& w : trust.witnesses.witnesses) {
        if (check_cosignature(note, w).check == CosignatureCheck::bad_signature) {
            error = "the cosignature of witness " + w.name + " does not verify";
            return std::nullopt;
        }
    }
    const auto cosigned = cosigners(note, trust.witnesses.witnesses);
    if (static_cast<std::int64_t>(cosigned.size()) < trust.witnesses.quorum) {
        error = "cosigned by " + std::to_string(cosigned.size()) + " of the " +
                std::to_string(trust.witnesses.quorum) + " witnesses required: not witnessed";
        return std::nullopt;
    }
    auto cp = parse_checkpoint_text(note.text, error);
    if (!cp) {
        return std::nullopt;
    }
    if (cp->origin != trust.key.name()) {
        error = "checkpoint origin \"" + cp->origin + "\" is not the key's name \"" +
                trust.key.name() + "\"";
        return std::nullopt;
    }
    if (cp->legacy()) {
        error = "a checkpoint without a Merkle root (before lethe's Merkle tree)";
        return std::nullopt;
    }
    return cp;
}

namespace {

// What the signed statement of a bundle says.
struct BundleClaims {
    std::vector<std::string> digests;
    std::int64_t tree_size = 0;
    std::string checkpoint_digest; // hex SHA-256 of the checkpoint note's text
    std::vector<std::pair<std::int64_t, std::string>> entries; // (seq, hash), seq ascending
};

// Reads the statement's members in their required order; the reason in `error` otherwise.
std::optional<BundleClaims> read_claims(const Statement& s, const TrustedKeys& key,
                                        std::string& error) {
    BundleClaims c;
    const auto& m = s.members;
    std::size_t i = 0;
    auto next_is = [&](std::string_view name) {
        return i < m.size() && m[i].first == name;
    };
    if (s.tag != k_bundle_format) {
        error = "the statement is not a " + std::string(k_bundle_format) + " statement";
        return std::nullopt;
    }
    if (!next_is(k_origin) || m[i++].second != key.name()) {
        error = "the statement's origin is not the trusted key's name " + key.name();
        return std::nullopt;
    }
    while (next_is(k_digest)) {
        if (!is_hash_hex(m[i].second) || c.digests.size() == 2) {
            error = "a subject_digest is not 64 hex digits, or there are more than two";
            return std::nullopt;
        }
        c.digests.push_back(m[i++].second);
    }
    auto size = next_is(k_tree_size) ? parse_int64(m[i++].second) : std::nullopt;
    if (c.digests.empty() || !size || *size < 1 || !next_is(k_checkpoint) ||
        !is_hash_hex(m[i].second)) {
        error = "the statement needs subject_digest, tree_size and checkpoint, in that order";
        return std::nullopt;
    }
    c.tree_size = *size;
    c.checkpoint_digest = m[i++].second;
    for (; i < m.size(); ++i) {
        const auto& value = m[i].second;
        const auto sp = value.find(' ');
        auto seq = sp == std::string::npos ? std::nullopt : parse_int64(value.substr(0, sp));
        if (m[i].first != k_entry || !seq || *seq < 1 || *seq > c.tree_size ||
            !is_hash_hex(value.substr(sp + 1)) ||
            (!c.entries.empty() && *seq <= c.entries.back().first)) {
            error = "statement member " + std::to_string(i + 1) +
                    " is not \"entry <seq> <hash>\" with seqs ascending within tree_size";
            return std::nullopt;
        }
        c.entries.emplace_back(*seq, value.substr(sp + 1));
    }
    if (c.entries.empty()) {
        error = "the statement names no entry";
        return std::nullopt;
    }
    return c;
}

// Splits the bundle into lines; every line, the last included, must end with a newline.
std::optional<std::vector<std::string_view>> bundle_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        if (nl == std::string_view::npos) {
            return std::nullopt;
        }
        lines.push_back(text.substr(0, nl));
        text.remove_prefix(nl + 1);
    }
    return lines;
}

// True when the parsed line has exactly these members (names, in any order).
bool has_members(const FlatJsonParser& p, std::initializer_list<std::string_view> names) {
    if (p.members().size() != names.size()) {
        return false;
    }
    return std::all_of(names.begin(), names.end(),
                       [&p](std::string_view n) { return p.get(n) != nullptr; });
}

// A string member of a line already checked by has_members.
std::string_view text_of(const FlatJsonParser& p, std::string_view name, bool& ok) {
    const auto* v = p.get(name);
    ok = ok && v->kind == FlatJsonValue::Kind::string;
    return ok ? v->text : std::string_view();
}

// Checks the header line and returns the claims of its signed statement.
std::optional<BundleClaims> check_header(FlatJsonParser& p, std::string_view line,
                                         const TrustedKeys& key, std::string& error) {
    bool ok = p.parse(line, error) && has_members(p, {"type", "format", "statement"});
    ok = ok && text_of(p, "type", ok) == "subject-proof" &&
         text_of(p, "format", ok) == k_bundle_format;
    if (!ok) {
        error = "not a " + std::string(k_bundle_format) + " header (type, format and statement)" +
                (error.empty() ? "" : ": " + error);
        return std::nullopt;
    }
    const std::string note(text_of(p, "statement", ok));
    auto statement = ok ? open_statement(note, key, error) : std::nullopt;
    if (!statement) {
        error = "statement: " + (ok ? error : std::string("not a string"));
        return std::nullopt;
    }
    auto claims = read_claims(*statement, key, error);
    if (!claims) {
        error = "statement: " + error;
    }
    return claims;
}

// Checks the last line: the checkpoint, its signature and that it is the one the statement names.
std::optional<Checkpoint> check_checkpoint_line(FlatJsonParser& p, std::string_view line,
                                                const BundleTrust& trust, const BundleClaims& c,
                                                std::string& error) {
    bool ok = true;
    ok = p.parse(line, error) && has_members(p, {"type", "note"}) &&
         text_of(p, "type", ok) == "checkpoint";
    const std::string note(ok ? text_of(p, "note", ok) : std::string_view());
    if (!ok) {
        error = "not the checkpoint line (type and note)" + (error.empty() ? "" : ": " + error);
        return std::nullopt;
    }
    auto parsed = parse_note(note, error);
    auto cp = parsed ? open_bundle_checkpoint(*parsed, trust, error) : std::nullopt;
    if (!cp) {
        error = "checkpoint: " + error;
        return std::nullopt;
    }
    if (to_hex(crypto::sha256(parsed->text)) != c.checkpoint_digest || cp->size != c.tree_size) {
        error = "checkpoint: not the checkpoint the statement names (its text's SHA-256 and "
                "tree_size)";
        return std::nullopt;
    }
    return cp;
}

// Checks one entry line and the inclusion line after it; the reason in `error` otherwise.
bool check_entry(FlatJsonParser& p, std::string_view entry_line, std::string_view proof_line,
                 const std::pair<std::int64_t, std::string>& claim, const BundleClaims& c,
                 const Checkpoint& cp, EntryHasher& hasher, std::string& error) {
    store::AuditEntryView e;
    if (!p.parse(entry_line, error) || !entry_from_json(p, e, error)) {
        error = "not an entry line: " + error;
        return false;
    }
    if (e.seq != claim.first || e.hash != claim.second) {
        error = "seq and hash differ from the statement's entry " + std::to_string(claim.first);
        return false;
    }
    if (hasher.hash_hex(e) != e.hash) {
        error = "seq " + std::to_string(e.seq) + ": hash does not match the entry's contents";
        return false;
    }
    if (std::find(c.digests.begin(), c.digests.end(), e.subject_digest) == c.digests.end()) {
        error = "seq " + std::to_string(e.seq) + ": subject_digest is not the bundle's subject";
        return false;
    }
    InclusionProof proof{cp, "", e.seq, std::string(e.hash), {}};
    bool ok = true;
    ok = p.parse(proof_line, error) && has_members(p, {"type", "seq", "proof"}) &&
         text_of(p, "type", ok) == "inclusion";
    const auto* seq = ok ? p.get("seq") : nullptr;
    if (!ok || seq->kind != FlatJsonValue::Kind::integer || seq->number != e.seq ||
        !parse_hex_list(text_of(p, "proof", ok), proof.hashes) || !ok) {
        error = "not the inclusion line of seq " + std::to_string(e.seq) +
                " (type, seq and proof)" + (error.empty() ? "" : ": " + error);
        return false;
    }
    if (!verify(proof)) {
        error = "seq " + std::to_string(e.seq) +
                ": the inclusion proof does not verify against the checkpoint's root";
        return false;
    }
    return true;
}

} // namespace

VerifyReport verify_proof_bundle(std::string_view bundle, const BundleTrust& trust) {
    VerifyReport report;
    auto problem = [&report](std::size_t line, std::string what) {
        report.problem =
            VerifyProblem{std::nullopt, "line " + std::to_string(line), std::move(what)};
        return report;
    };
    const auto lines = bundle_lines(bundle);
    if (!lines || lines->size() < 4) {
        return problem(lines ? lines->size() : 0,
                       "not a proof bundle: it needs a header, an entry and its inclusion proof, "
                       "and a checkpoint line, each ended by a newline");
    }
    FlatJsonParser parser;
    std::string error;
    const auto claims = check_header(parser, lines->front(), trust.key, error);
    if (!claims) {
        return problem(1, error);
    }
    if (lines->size() != 2 * claims->entries.size() + 2) {
        return problem(lines->size(),
                       "the statement names " + std::to_string(claims->entries.size()) +
                           " entries; the bundle has " + std::to_string(lines->size()) +
                           " lines, not " + std::to_string(2 * claims->entries.size() + 2));
    }
    const auto cp = check_checkpoint_line(parser, lines->back(), trust, *claims, error);
    if (!cp) {
        return problem(lines->size(), error);
    }
    EntryHasher hasher;
    for (std::size_t i = 0; i < claims->entries.size(); ++i) {
        const std::size_t at = 1 + 2 * i; // index of the entry line
        if (!check_entry(parser, (*lines)[at], (*lines)[at + 1], claims->entries[i], *claims, *cp,
                         hasher, error)) {
            return problem(at + 1, error);
        }
    }
    report.count = static_cast<std::int64_t>(claims->entries.size());
    report.first_seq = claims->entries.front().first;
    report.last_seq = claims->entries.back().first;
    report.signed_size = cp->size;
    report.tree_root = cp->root_hash;
    report.head_hash = cp->head_hash;
    std::string digests;
    for (const auto& d : claims->digests) {
        digests += (digests.empty() ? "" : ", ") + d;
    }
    report.notes.push_back("subject " + digests);
    report.notes.push_back(
        std::to_string(report.count) + " entries, each included in the checkpoint of size " +
        std::to_string(cp->size) + " (root " + cp->root_hash + "), signed by " + trust.key.name());
    return report;
}

} // namespace lethe::audit
