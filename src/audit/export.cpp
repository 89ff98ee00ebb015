#include "audit/export.hpp"

#include "audit/chain.hpp"
#include "audit/chain_thread.hpp"
#include "audit/flat_json.hpp"
#include "audit/output.hpp"
#include "store/audit_queries.hpp"
#include "store/witness_store.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <charconv>
#include <cstring>
#include <iterator>

namespace lethe::audit {
namespace {

void append_int(std::string& out, std::int64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(std::begin(buf), std::end(buf), v);
    (void)ec;
    out.append(buf, static_cast<std::size_t>(end - buf));
}

char* write_text(char* out, std::string_view s) {
    std::memcpy(out, s.data(), s.size());
    return out + s.size();
}

void append_member(std::string& out, std::string_view key, std::string_view value, bool& ok) {
    out.push_back(',');
    out.push_back('"');
    out.append(key);
    out.append("\":");
    ok = append_json_literal(out, value) && ok;
}

// The most bytes jsonl_entry_at() writes for `e`: the member names are fixed, so the bound is
// the escaped size of the fields plus a constant.
std::size_t jsonl_entry_room(const store::AuditEntryView& e) {
    std::size_t room = 64 + 7 * 24;
    for (std::string_view f :
         {e.at, e.event, e.request_ref, e.subject_digest, e.detail, e.prev_hash, e.hash}) {
        room += json_literal_max_size(f.size());
    }
    return room;
}

// Writes one JSON Lines entry at `p` (jsonl_entry_room() bytes); returns its end. Throws
// lethe::Error when a field is not valid UTF-8.
char* jsonl_entry_at(char* p, const store::AuditEntryView& e) {
    const std::string_view fields[] = {e.at,     e.event,     e.request_ref, e.subject_digest,
                                       e.detail, e.prev_hash, e.hash};
    constexpr std::string_view k_names[] = {
        ",\"at\":",     ",\"event\":",     ",\"request_ref\":", ",\"subject_digest\":",
        ",\"detail\":", ",\"prev_hash\":", ",\"hash\":"};
    bool valid_utf8 = true;
    p = write_text(p, "{\"seq\":");
    p = std::to_chars(p, p + 24, e.seq).ptr;
    for (std::size_t i = 0; i < std::size(fields); ++i) {
        p = write_text(p, k_names[i]);
        p = write_json_literal(p, fields[i], valid_utf8);
    }
    p = write_text(p, "}\n");
    if (!valid_utf8) {
        throw Error(ExitCode::failure, "audit log: seq " + std::to_string(e.seq) +
                                           ": a field is not valid UTF-8 and cannot be exported "
                                           "byte for byte");
    }
    return p;
}

void write_jsonl_entry(OutputFile& out, const store::AuditEntryView& e) {
    char* p = out.reserve(jsonl_entry_room(e));
    out.advance(jsonl_entry_at(p, e));
}

void append_csv_field(std::string& out, std::string_view s) {
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
        out.append(s);
        return;
    }
    out.push_back('"');
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '"') {
            out.append(s.substr(run, i + 1 - run));
            out.push_back('"');
            run = i + 1;
        }
    }
    out.append(s.substr(run));
    out.push_back('"');
}

void append_csv_entry(std::string& out, const store::AuditEntryView& e) {
    append_int(out, e.seq);
    for (std::string_view f :
         {e.at, e.event, e.request_ref, e.subject_digest, e.detail, e.prev_hash, e.hash}) {
        out.push_back(',');
        append_csv_field(out, f);
    }
    out.append("\r\n");
}

void append_optional_text(std::string& out, std::string_view key,
                          const std::optional<std::string>& t) {
    out.append(",\"");
    out.append(key);
    out.append("\":");
    if (t) {
        append_json_literal(out, *t);
    } else {
        out.append("null");
    }
}

void append_optional_int(std::string& out, std::string_view key, std::int64_t v, bool present) {
    out.append(",\"");
    out.append(key);
    out.append("\":");
    if (present) {
        append_int(out, v);
    } else {
        out.append("null");
    }
}

// Hashes as one string of space-separated hex (the trailer is a flat JSON object).
std::string hex_list(const std::vector<std::string>& hashes) {
    std::string out;
    for (const auto& h : hashes) {
        out += (out.empty() ? "" : " ") + to_hex(h);
    }
    return out;
}

// The Merkle tree at the export's start, end and head, for the trailer's notes and proofs.
struct ExportTree {
    std::string start_root; // hex
    std::string start_tree; // the frontier at the start, hex_list
    std::string end_root;
    std::string head_root;
    std::string head_proof; // consistency from end to head, hex_list
    // The newest witnessed checkpoint (with its cosignatures) and the consistency proof from it to
    // the head; empty when there is none. Not in trailer_note: the note is signed by the log key
    // and by the witnesses, and the proof is checked against head_note.
    std::string witnessed_note;
    std::string witnessed_proof;
};

// Fills the tree's witnessed members from the newest checkpoint that has a quorum of
// cosignatures (inside the export's snapshot, so it is never larger than the head).
void find_witnessed(store::Database& db, store::AuditSnapshot& snap, const ExportOptions& options,
                    std::int64_t head_size, ExportTree& tree) {
    const auto witnessed = store::latest_witnessed(db, options.witnesses, options.witness_quorum);
    if (!witnessed || witnessed->size > head_size) {
        return;
    }
    tree.witnessed_note = store::note_with_cosignatures(db, witnessed->id, witnessed->note);
    tree.witnessed_proof =
        hex_list(crypto::merkle::consistency_proof(witnessed->size, head_size, snap.tree_reader()));
}

// The trailer's members: the signed checkpoints and what they cover.
ExportTrailer trailer_members(const CheckpointSigner& signer, const Clock& clock,
                              const ExportOptions& options, const ChainVerifier& chain,
                              const store::ChainHead& head, const ExportTree& tree) {
    const bool any = chain.count() > 0;
    auto iso = [](const std::optional<TimeMs>& t) {
        return t ? std::optional<std::string>(format_iso8601_ms(*t)) : std::nullopt;
    };
    ExportTrailer t;
    t.origin = signer.origin();
    t.first_seq = any ? std::optional<std::int64_t>(chain.first_seq()) : std::nullopt;
    t.last_seq = any ? std::optional<std::int64_t>(chain.last_seq()) : std::nullopt;
    t.count = chain.count();
    t.since = iso(options.since);
    t.until = iso(options.until);
    t.log_size = head.size;
    t.log_head = head.hash;
    t.exported_at = format_iso8601_ms(clock.now_ms());
    // Three signed checkpoints: `start_note` fixes where the export begins (the hash its first
    // entry links to), `end_note` vouches for its last entry and so for every entry before it,
    // `head_note` states the whole log at export time. For an empty export all three are the head.
    t.head_note = signer.sign(head.size, tree.head_root, head.hash);
    t.start_note =
        any ? signer.sign(chain.first_seq() - 1, tree.start_root, chain.first_prev_hash())
            : t.head_note;
    t.end_note =
        any ? signer.sign(chain.last_seq(), tree.end_root, chain.last_hash()) : t.head_note;
    // The Merkle tree links them: the subtrees at the start (with the entries, they give the end's
    // root) and the consistency proof from the end to the head.
    t.start_tree = any ? tree.start_tree : std::string();
    t.head_proof = any ? tree.head_proof : std::string();
    return t;
}

// The trailer: one flat JSON object with the members and trailer_note, which signs them all.
std::string trailer_json(const CheckpointSigner& signer, const ExportTrailer& t,
                         const ExportTree& tree) {
    std::string out = "{\"type\":\"checkpoint\"";
    bool ok = true;
    append_member(out, "format", k_export_format, ok);
    append_member(out, "origin", t.origin, ok);
    append_member(out, "key", format_verifier_key(signer.verifier_key()), ok);
    append_optional_int(out, "first_seq", t.first_seq.value_or(0), t.first_seq.has_value());
    append_optional_int(out, "last_seq", t.last_seq.value_or(0), t.last_seq.has_value());
    append_optional_int(out, "count", t.count, true);
    append_optional_text(out, "since", t.since);
    append_optional_text(out, "until", t.until);
    append_optional_int(out, "log_size", t.log_size, true);
    append_member(out, "log_head", t.log_head, ok);
    append_member(out, "exported_at", t.exported_at, ok);
    append_member(out, "start_note", t.start_note, ok);
    append_member(out, "end_note", t.end_note, ok);
    append_member(out, "head_note", t.head_note, ok);
    append_member(out, "start_tree", t.start_tree, ok);
    append_member(out, "head_proof", t.head_proof, ok);
    append_member(out, "trailer_note", signer.sign_statement(trailer_statement(t)), ok);
    if (!tree.witnessed_note.empty()) {
        append_member(out, "witnessed_note", tree.witnessed_note, ok);
        append_member(out, "witnessed_proof", tree.witnessed_proof, ok);
    }
    out.append("}\n");
    return out;
}

} // namespace

std::string jsonl_entry_line(const store::AuditEntryView& e) {
    std::string out(jsonl_entry_room(e), '\0');
    out.resize(static_cast<std::size_t>(jsonl_entry_at(out.data(), e) - out.data()));
    return out;
}

Statement trailer_statement(const ExportTrailer& t) {
    auto number = [](const std::optional<std::int64_t>& v) {
        return v ? std::to_string(*v) : std::string("null");
    };
    auto digest = [](const std::string& note) {
        return to_hex(crypto::sha256(note));
    };
    Statement s{std::string(k_export_format), {}};
    s.add("origin", t.origin);
    s.add("first_seq", number(t.first_seq));
    s.add("last_seq", number(t.last_seq));
    s.add("count", std::to_string(t.count));
    s.add("since", t.since.value_or("null"));
    s.add("until", t.until.value_or("null"));
    s.add("log_size", std::to_string(t.log_size));
    s.add("log_head", t.log_head);
    s.add("exported_at", t.exported_at);
    s.add("start_note", digest(t.start_note));
    s.add("end_note", digest(t.end_note));
    s.add("head_note", digest(t.head_note));
    s.add("start_tree", t.start_tree);
    s.add("head_proof", t.head_proof);
    return s;
}

std::filesystem::path csv_sidecar_path(const std::filesystem::path& csv) {
    auto p = csv;
    p += ".checkpoint.json";
    return p;
}

ExportSummary export_audit_log(store::Database& db, const CheckpointSigner& signer,
                               const Clock& clock, const ExportOptions& options) {
    if (options.format == ExportFormat::csv && options.output.empty()) {
        throw Error(ExitCode::usage,
                    "CSV exports need -o FILE: the signed checkpoint is written beside it");
    }
    store::AuditSnapshot snap(db);
    const store::ChainHead head = snap.head();
    std::optional<store::SeqRange> range;
    if (options.since || options.until) {
        auto iso = [](const std::optional<TimeMs>& t) {
            return t ? std::optional<std::string>(format_iso8601_ms(*t)) : std::nullopt;
        };
        range = snap.seq_range_for_time(iso(options.since), iso(options.until));
    } else if (head.size > 0) {
        range = store::SeqRange{1, head.size};
    }

    // Nothing is signed over a log that no longer extends the checkpoints signed before, nor
    // over a range whose anchor (the entry before it) is not reached by an intact chain.
    std::vector<std::string> skipped;
    const auto known = stored_checkpoints(snap, options.checkpoint_dir, signer.trusted(), skipped);
    const std::int64_t anchor_seq = range ? range->first - 1 : 0;
    ExportTree tree;
    tree.start_root =
        check_log_extends(db, snap, known, anchor_seq, "audit log: refusing to sign the export");
    auto chain = ChainVerifier::from_genesis();
    if (anchor_seq > 0) {
        chain = ChainVerifier::anchored(range->first, *snap.hash_at(anchor_seq));
        // Vouched for by start_root, which check_log_extends recomputed from the entries.
        chain.track_tree(crypto::merkle::Frontier::load(anchor_seq, snap.tree_reader()));
    }
    tree.start_tree = hex_list(chain.tree()->hashes());
    for (const auto& k : known) {
        if (range && k.checkpoint.size > anchor_seq && k.checkpoint.size <= range->last) {
            chain.expect(k.checkpoint.size, k.checkpoint.head_hash, k.checkpoint.root_hash,
                         k.source);
        }
    }

    OutputFile out(options.output);
    if (options.format == ExportFormat::csv) {
        out.write("seq,at,event,request_ref,subject_digest,detail,prev_hash,hash\r\n");
    }
    if (range) {
        // The entries are written while a second thread checks them: if the chain breaks, the
        // file is removed below, so nothing unchecked is ever signed or left behind.
        ChainCheckThread checker(chain);
        store::AuditCursor cursor(db, *range);
        store::AuditEntryView e;
        std::string csv_line;
        while (cursor.next(e)) {
            if (!checker.add(e)) {
                break;
            }
            if (options.format == ExportFormat::jsonl) {
                write_jsonl_entry(out, e);
            } else {
                csv_line.clear();
                append_csv_entry(csv_line, e);
                out.write(csv_line);
            }
        }
        checker.finish();
    }
    if (!chain.finish()) {
        // Never sign a broken chain; the partial file is removed by OutputFile.
        throw Error(ExitCode::failure, "audit log: refusing to sign the export: seq " +
                                           std::to_string(chain.failure()->seq) + ": " +
                                           chain.failure()->what + " (run `lethe audit verify`)");
    }

    tree.end_root = to_hex(chain.tree()->root());
    tree.head_root = (range && chain.last_seq() == head.size) || head.size == 0
                         ? tree.end_root
                         : to_hex(snap.tree_root(head.size));
    if (chain.count() > 0) {
        tree.head_proof = hex_list(
            crypto::merkle::consistency_proof(chain.last_seq(), head.size, snap.tree_reader()));
    }

    find_witnessed(db, snap, options, head.size, tree);

    ExportSummary summary;
    summary.count = chain.count();
    summary.first_seq = chain.first_seq();
    summary.last_seq = chain.last_seq();
    summary.log_size = head.size;
    const std::string trailer =
        trailer_json(signer, trailer_members(signer, clock, options, chain, head, tree), tree);
    if (options.format == ExportFormat::jsonl) {
        out.write(trailer);
        out.commit();
    } else {
        out.commit();
        summary.sidecar = csv_sidecar_path(options.output);
        write_file_atomic(summary.sidecar, trailer);
    }
    summary.bytes = out.bytes();
    return summary;
}

} // namespace lethe::audit
