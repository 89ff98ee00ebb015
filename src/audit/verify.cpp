#include "audit/verify.hpp"

#include "audit/chain.hpp"
#include "audit/checkpoint.hpp"
#include "audit/export.hpp"
#include "audit/flat_json.hpp"
#include "crypto/merkle.hpp"
#include "intake/csv_reader.hpp"
#include "store/audit_queries.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cstring>

namespace lethe::audit {
namespace {

constexpr std::size_t k_read_block = 1 << 20;
constexpr std::size_t k_max_line_bytes = 16 << 20;

std::string read_checkpoint_file(const std::filesystem::path& path) {
    try {
        return read_file(path, FileKind::checkpoint_note);
    } catch (const Error& e) {
        throw Error(ExitCode::failure, std::string("checkpoint: ") + e.what());
    }
}

// Opens a checkpoint the caller gave; it must verify with the trusted key.
std::optional<KnownCheckpoint> open_given_note(std::string_view note, const std::string& source,
                                               const TrustedKeys& key, VerifyReport& report) {
    std::string error;
    auto cp = open_checkpoint(note, key, error);
    if (!cp) {
        report.problem = VerifyProblem{std::nullopt, source, error};
        return std::nullopt;
    }
    return KnownCheckpoint{std::move(*cp), source};
}

void note_checkpoints(VerifyReport& report, const std::vector<KnownCheckpoint>& known) {
    for (const auto& k : known) {
        if (std::find(report.outside.begin(), report.outside.end(), k.source) !=
            report.outside.end()) {
            continue;
        }
        report.notes.push_back(k.source + ": size " + std::to_string(k.checkpoint.size) +
                               ", head matches, signature valid");
        report.signed_size = std::max(report.signed_size, k.checkpoint.size);
    }
}

void take_chain_result(VerifyReport& report, const ChainVerifier& chain, std::string where) {
    report.count = chain.count();
    report.first_seq = chain.first_seq();
    report.last_seq = chain.last_seq();
    report.head_hash = chain.last_hash();
    if (chain.failure() && !report.problem) {
        report.problem =
            VerifyProblem{chain.failure()->seq, std::move(where), chain.failure()->what};
    }
}

// Reads a file line by line in large blocks; lines are views valid until the next call.
class LineReader {
public:
    explicit LineReader(const std::filesystem::path& path)
        : m_file(path, FileKind::audit_export), m_buf(k_read_block, '\0') {}
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    bool next(std::string_view& line) {
        while (true) {
            const char* start = m_buf.data() + m_pos;
            if (const void* nl = std::memchr(start, '\n', m_end - m_pos)) {
                const auto len = static_cast<std::size_t>(static_cast<const char*>(nl) - start);
                line = std::string_view(start, len);
                m_pos += len + 1;
                return true;
            }
            if (m_eof) {
                if (m_pos == m_end) {
                    return false;
                }
                line = std::string_view(start, m_end - m_pos); // a last line without newline
                m_pos = m_end;
                return true;
            }
            std::memmove(m_buf.data(), start, m_end - m_pos);
            m_end -= m_pos;
            m_pos = 0;
            if (m_end == m_buf.size()) {
                // A line longer than the block; an entry is a few hundred bytes, so a line
                // without end (a file of zeros) stops here instead of taking all memory.
                if (m_buf.size() >= k_max_line_bytes) {
                    throw Error(ExitCode::failure, m_file.name() +
                                                       ": a line is longer than 16 MiB; not a "
                                                       "lethe audit export");
                }
                m_buf.resize(m_buf.size() * 2);
            }
            std::size_t n = m_file.read(m_buf.data() + m_end, m_buf.size() - m_end);
            if (n == 0) {
                m_eof = true;
            }
            m_end += n;
        }
    }

private:
    InputFile m_file;
    std::string m_buf;
    std::size_t m_pos = 0;
    std::size_t m_end = 0;
    bool m_eof = false;
};

// The trailer of an export, copied out of the parser.
struct Trailer {
    std::string format;
    std::string key;
    ExportTrailer m;          // the members trailer_note signs (format 3)
    std::string trailer_note; // format 3
};

bool read_trailer(const FlatJsonParser& p, Trailer& t, std::string& error) {
    auto missing = [&](const char* name, const char* what) {
        error = std::string("checkpoint line: \"") + name + "\" is missing or not " + what;
        return false;
    };
    auto str = [&](const char* name, std::string& out) {
        const auto* v = p.get(name);
        if (v == nullptr || v->kind != FlatJsonValue::Kind::string) {
            return missing(name, "a string");
        }
        out = v->text;
        return true;
    };
    auto nullable_str = [&](const char* name, std::optional<std::string>& out) {
        const auto* v = p.get(name);
        if (v != nullptr && v->kind == FlatJsonValue::Kind::string) {
            out = std::string(v->text);
            return true;
        }
        return (v != nullptr && v->kind == FlatJsonValue::Kind::null) ||
               missing(name, "a string or null");
    };
    auto integer = [&](const char* name, std::optional<std::int64_t>& out, bool nullable) {
        const auto* v = p.get(name);
        if (v != nullptr && v->kind == FlatJsonValue::Kind::integer) {
            out = v->number;
            return true;
        }
        if (v != nullptr && v->kind == FlatJsonValue::Kind::null && nullable) {
            return true;
        }
        return missing(name, "an integer");
    };
    std::optional<std::int64_t> count;
    std::optional<std::int64_t> log_size;
    auto& m = t.m;
    if (!str("format", t.format) || !str("origin", m.origin) || !str("key", t.key) ||
        !integer("first_seq", m.first_seq, true) || !integer("last_seq", m.last_seq, true) ||
        !integer("count", count, false) || !integer("log_size", log_size, false) ||
        !str("log_head", m.log_head) || !str("start_note", m.start_note) ||
        !str("end_note", m.end_note) || !str("head_note", m.head_note)) {
        return false;
    }
    m.count = *count;
    m.log_size = *log_size;
    // Older formats may lack these; format 3 signs them, so there they must be present.
    if (t.format == k_export_format &&
        (!nullable_str("since", m.since) || !nullable_str("until", m.until) ||
         !str("exported_at", m.exported_at) || !str("trailer_note", t.trailer_note))) {
        return false;
    }
    if (t.format != k_export_format_v1 &&
        (!str("start_tree", m.start_tree) || !str("head_proof", m.head_proof))) {
        return false;
    }
    return true;
}

// Format 3: trailer_note must be signed by the trusted key and state exactly the members.
std::string check_trailer_note(const Trailer& t, const TrustedKeys& key) {
    std::string error;
    auto signed_members = open_statement(t.trailer_note, key, error);
    if (!signed_members) {
        return "trailer_note: " + error;
    }
    const auto field = first_difference(trailer_statement(t.m), *signed_members);
    if (!field.empty()) {
        return "trailer_note: the signed trailer states another " + field +
               " than the trailer's member (the trailer was changed after signing)";
    }
    return "";
}

// Format 2: the Merkle tree links the notes. start_tree has start_note's root, with the entries
// it gives end_note's root, and head_proof shows head_note extends end_note. Empty: all fine.
std::string check_trailer_tree(const Trailer& t, const ChainVerifier& chain,
                               const Checkpoint& start, const Checkpoint& end,
                               const Checkpoint& head) {
    if (start.legacy() || end.legacy() || head.legacy()) {
        return "a checkpoint of this export format has no Merkle root";
    }
    if (chain.count() == 0) {
        return "";
    }
    std::vector<std::string> hashes;
    if (!parse_hex_list(t.m.start_tree, hashes)) {
        return "start_tree is not a list of 64-hex-digit hashes";
    }
    auto before = crypto::merkle::Frontier::from_hashes(start.size, hashes);
    if (!before || to_hex(before->root()) != start.root_hash) {
        return "start_tree does not have start_note's Merkle root";
    }
    const auto whole = crypto::merkle::Frontier::join(*before, *chain.tree());
    if (to_hex(whole.root()) != end.root_hash) {
        return "the Merkle root of the entries differs from end_note's";
    }
    if (!parse_hex_list(t.m.head_proof, hashes) ||
        !crypto::merkle::verify_consistency(end.size, head.size, *from_hex(end.root_hash),
                                            *from_hex(head.root_hash), hashes)) {
        return "head_proof does not prove that head_note extends end_note";
    }
    return "";
}

// Given checkpoints of sizes outside the export's entries: one of the head's size must be the
// head (else the log forked); one larger than the head means the export does not show the log
// as it is known to have been (truncated, or older than that checkpoint); one before the
// export's start cannot be compared with it, and says so.
void compare_outside(const ChainVerifier& chain, const Checkpoint& head, VerifyReport& report) {
    for (const auto& o : chain.outside()) {
        report.outside.push_back(o.source);
        if (o.size > head.size) {
            report.problem = VerifyProblem{
                head.size + 1, o.source,
                "missing: this checkpoint covers " + std::to_string(o.size) +
                    " entries but the export's signed head (head_note) has " +
                    std::to_string(head.size) +
                    ": entries were removed from the end, or the export is older than the "
                    "checkpoint (export again)"};
            return;
        }
        if (o.size == head.size) {
            if (o.hash != head.head_hash ||
                (!o.root.empty() && !head.legacy() && o.root != head.root_hash)) {
                report.problem = VerifyProblem{std::nullopt, o.source,
                                               "differs from the export's head_note of the same "
                                               "size: the log was rewritten"};
                return;
            }
            report.notes.push_back(o.source + ": size " + std::to_string(o.size) +
                                   ", the log's size at export time: matches head_note");
            continue;
        }
        const std::string range = chain.count() == 0
                                      ? std::string("no entries")
                                      : "seq " + std::to_string(chain.first_seq()) + " to " +
                                            std::to_string(chain.last_seq());
        report.notes.push_back(o.source + ": size " + std::to_string(o.size) +
                               " is outside this export (" + range + ", of a log of " +
                               std::to_string(head.size) +
                               " entries): not compared; check it against the log "
                               "(`lethe audit verify --checkpoint`) or with `lethe audit "
                               "consistency`");
    }
}

// Checks the trailer against the chain that was read; the first problem goes into `report`.
void check_trailer(const Trailer& t, const ChainVerifier& chain, const TrustedKeys& key,
                   const std::string& where, VerifyReport& report) {
    auto problem = [&](std::optional<std::int64_t> seq, std::string what) {
        report.problem = VerifyProblem{seq, seq ? "" : where, std::move(what)};
    };
    if (t.format != k_export_format && t.format != k_export_format_v2 &&
        t.format != k_export_format_v1) {
        return problem(std::nullopt, "unknown export format \"" + t.format + "\"");
    }
    std::string error;
    auto start = open_checkpoint(t.m.start_note, key, error);
    if (!start) {
        return problem(std::nullopt, "start_note: " + error);
    }
    auto end = open_checkpoint(t.m.end_note, key, error);
    if (!end) {
        return problem(std::nullopt, "end_note: " + error);
    }
    auto head = open_checkpoint(t.m.head_note, key, error);
    if (!head) {
        return problem(std::nullopt, "head_note: " + error);
    }
    if (chain.count() == 0) {
        if (start->size != end->size || start->head_hash != end->head_hash) {
            return problem(start->size + 1, "missing: the signed checkpoints cover seq " +
                                                std::to_string(start->size + 1) + " to " +
                                                std::to_string(end->size) +
                                                " but the export holds no entries");
        }
    } else {
        // The signed start fixes where the export begins, the signed end where it stops.
        if (chain.first_seq() != start->size + 1) {
            return problem(std::min(chain.first_seq(), start->size + 1),
                           "missing: the signed start of the export is after seq " +
                               std::to_string(start->size) + " but the first entry is seq " +
                               std::to_string(chain.first_seq()));
        }
        if (chain.first_prev_hash() != start->head_hash) {
            return problem(chain.first_seq(),
                           "prev_hash differs from the signed start of the export (seq " +
                               std::to_string(start->size) + ")");
        }
        if (end->size > chain.last_seq()) {
            return problem(chain.last_seq() + 1, "missing: the signed end of the export is seq " +
                                                     std::to_string(end->size) +
                                                     " but the entries stop at seq " +
                                                     std::to_string(chain.last_seq()) +
                                                     " (entries were removed from the end)");
        }
        if (end->size < chain.last_seq()) {
            return problem(end->size + 1, "not signed: the signed end of the export is seq " +
                                              std::to_string(end->size) +
                                              "; this entry and any after it were added later");
        }
        if (end->head_hash != chain.last_hash()) {
            return problem(chain.last_seq(),
                           "hash differs from the signed end of the export: the entries "
                           "were rewritten");
        }
    }
    if (head->size < end->size || (head->size == end->size && head->head_hash != end->head_hash)) {
        return problem(std::nullopt, "head_note does not extend end_note");
    }
    if (t.m.log_size != head->size || t.m.log_head != head->head_hash) {
        return problem(std::nullopt, "log_size/log_head differ from head_note");
    }
    if (t.m.count != chain.count() || t.m.first_seq.value_or(0) != chain.first_seq() ||
        t.m.last_seq.value_or(0) != chain.last_seq()) {
        return problem(std::nullopt, "first_seq/last_seq/count differ from the entries");
    }
    if (t.m.origin != start->origin) {
        return problem(std::nullopt, "origin differs from the signed checkpoints");
    }
    if (t.format != k_export_format_v1) {
        if (auto what = check_trailer_tree(t, chain, *start, *end, *head); !what.empty()) {
            return problem(chain.count() > 0 ? std::optional<std::int64_t>(chain.last_seq())
                                             : std::nullopt,
                           what);
        }
    }
    // Last, so that a problem of the entries or the tree is still named by its seq.
    if (t.format == k_export_format) {
        if (auto what = check_trailer_note(t, key); !what.empty()) {
            return problem(std::nullopt, what);
        }
    }
    compare_outside(chain, *head, report);
    if (report.problem) {
        return;
    }
    report.signed_size = std::max(report.signed_size, end->size);
    report.notes.push_back("export: " + std::to_string(chain.count()) + " entries" +
                           (chain.count() > 0 ? ", seq " + std::to_string(chain.first_seq()) +
                                                    " to " + std::to_string(chain.last_seq())
                                              : std::string()) +
                           ", of a log of " + std::to_string(head->size) +
                           " entries; start, end and head checkpoints signed by " + key.name());
    if (t.format != k_export_format) {
        report.notes.push_back("NOT COVERED: this export is of format " + t.format +
                               ", whose since, until and exported_at are not signed (nor "
                               "covered by anything): do not rely on them; export again for a "
                               "signed trailer");
    } else {
        report.notes.push_back("trailer signed (trailer_note): origin, range, count, since, "
                               "until, log_size, log_head, exported_at, the three notes, "
                               "start_tree and head_proof; key is information only");
    }
    if (!key.contains(t.key)) {
        std::string trusted;
        for (const auto& k : key.keys()) {
            trusted += (trusted.empty() ? "" : ", ") + format_verifier_key(k);
        }
        report.notes.push_back("the export names key " + t.key + "; it was checked against " +
                               trusted);
    }
}

} // namespace

bool entry_from_json(const FlatJsonParser& p, AuditEntryView& e, std::string& error) {
    if (p.members().size() != 8) {
        for (const auto& [name, value] : p.members()) {
            bool known = false;
            for (const char* f : k_entry_fields) {
                known = known || name == f;
            }
            if (!known) {
                error = "unknown member \"" + std::string(name) + "\"";
                return false;
            }
        }
        error = "an entry needs exactly the members seq, at, event, request_ref, subject_digest, "
                "detail, prev_hash and hash";
        return false;
    }
    const auto* seq = p.get("seq");
    if (seq == nullptr || seq->kind != FlatJsonValue::Kind::integer || seq->number < 1) {
        error = "\"seq\" is missing or not a positive integer";
        return false;
    }
    e.seq = seq->number;
    std::string_view* fields[] = {&e.at,     &e.event,     &e.request_ref, &e.subject_digest,
                                  &e.detail, &e.prev_hash, &e.hash};
    for (std::size_t i = 0; i < 7; ++i) {
        const char* name = k_entry_fields[i + 1];
        const auto* v = p.get(name);
        if (v == nullptr || v->kind != FlatJsonValue::Kind::string) {
            error = std::string("\"") + name + "\" is missing or not a string";
            return false;
        }
        *fields[i] = v->text;
    }
    return true;
}

namespace {

void add_expectations(ChainVerifier& chain, const std::vector<KnownCheckpoint>& known) {
    for (const auto& k : known) {
        chain.expect(k.checkpoint.size, k.checkpoint.head_hash, k.checkpoint.root_hash, k.source);
    }
}

bool open_given(const std::vector<std::filesystem::path>& files, const TrustedKeys& key,
                VerifyReport& report, std::vector<KnownCheckpoint>& known) {
    for (const auto& f : files) {
        auto k = open_given_note(read_checkpoint_file(f), "checkpoint " + f.string(), key, report);
        if (!k) {
            return false;
        }
        known.push_back(std::move(*k));
    }
    return true;
}

VerifyReport verify_jsonl(const std::filesystem::path& file, const TrustedKeys& key,
                          const std::vector<KnownCheckpoint>& known) {
    VerifyReport report;
    auto chain = ChainVerifier::self_anchored();
    chain.set_aside_outside();
    add_expectations(chain, known);
    LineReader reader(file);
    FlatJsonParser parser;
    std::string error;
    std::string_view line;
    std::int64_t line_no = 0;
    std::optional<Trailer> trailer;
    AuditEntryView e;
    auto at_line = [&] {
        return "line " + std::to_string(line_no);
    };
    while (reader.next(line)) {
        ++line_no;
        if (trailer) {
            report.problem = VerifyProblem{std::nullopt, at_line(),
                                           "content after the checkpoint line (appended later?)"};
            return report;
        }
        if (!parser.parse(line, error)) {
            report.problem = VerifyProblem{std::nullopt, at_line(), "not an export line: " + error};
            take_chain_result(report, chain, at_line());
            return report;
        }
        if (const auto* type = parser.get("type")) {
            Trailer t;
            if (type->kind != FlatJsonValue::Kind::string || type->text != "checkpoint" ||
                !read_trailer(parser, t, error)) {
                report.problem = VerifyProblem{std::nullopt, at_line(),
                                               error.empty() ? "unknown line type" : error};
                return report;
            }
            trailer = std::move(t);
            report.trailer_line = std::string(line);
            continue;
        }
        if (!entry_from_json(parser, e, error)) {
            report.problem = VerifyProblem{std::nullopt, at_line(), error};
            return report;
        }
        if (!chain.add(e)) {
            take_chain_result(report, chain, at_line());
            return report;
        }
    }
    // A chain that claims to start at seq 1 must start from the genesis hash.
    if (chain.count() > 0 && chain.first_seq() == 1 &&
        chain.first_prev_hash() != store::k_genesis_hash) {
        report.problem =
            VerifyProblem{1, "", "prev_hash of the first entry is not the genesis hash"};
    }
    if (!report.problem && !chain.finish()) {
        take_chain_result(report, chain, "");
        return report;
    }
    take_chain_result(report, chain, "");
    if (report.problem) {
        return report;
    }
    if (!trailer) {
        report.problem = VerifyProblem{
            std::nullopt, file.string(),
            "no checkpoint line at the end: the export is incomplete or its end was cut off"};
        return report;
    }
    check_trailer(*trailer, chain, key, "checkpoint line " + std::to_string(line_no), report);
    return report;
}

VerifyReport verify_csv(const std::filesystem::path& file, const TrustedKeys& key,
                        const std::vector<KnownCheckpoint>& known) {
    VerifyReport report;
    auto chain = ChainVerifier::self_anchored();
    chain.set_aside_outside();
    add_expectations(chain, known);
    InputFile in(file, FileKind::audit_export);
    intake::CsvLimits limits;
    limits.read_block_bytes = k_read_block;
    intake::CsvReader reader(in.stream(), limits);
    intake::CsvRecord rec;
    if (!reader.next(rec) || !rec.error.empty() || rec.fields.size() != 8) {
        report.problem = VerifyProblem{std::nullopt, "line 1", "not a lethe audit CSV header"};
        return report;
    }
    for (std::size_t i = 0; i < 8; ++i) {
        if (rec.fields[i] != k_entry_fields[i]) {
            report.problem =
                VerifyProblem{std::nullopt, "line 1",
                              "header must be seq,at,event,request_ref,subject_digest,detail,"
                              "prev_hash,hash"};
            return report;
        }
    }
    AuditEntryView e;
    while (reader.next(rec)) {
        const std::string where = "line " + std::to_string(rec.line);
        if (!rec.error.empty() || rec.fields.size() != 8) {
            report.problem =
                VerifyProblem{std::nullopt, where,
                              rec.error.empty() ? "a row needs exactly 8 fields" : rec.error};
            take_chain_result(report, chain, where);
            return report;
        }
        // Only the form lethe writes: ASCII digits, no sign, no leading zero (4.2).
        auto seq = parse_int64(rec.fields[0]);
        if (!seq || *seq < 1 || std::to_string(*seq) != rec.fields[0]) {
            report.problem = VerifyProblem{std::nullopt, where,
                                           "seq is not a positive decimal integer without sign "
                                           "or leading zeros"};
            return report;
        }
        e.seq = *seq;
        e.at = rec.fields[1];
        e.event = rec.fields[2];
        e.request_ref = rec.fields[3];
        e.subject_digest = rec.fields[4];
        e.detail = rec.fields[5];
        e.prev_hash = rec.fields[6];
        e.hash = rec.fields[7];
        if (!chain.add(e)) {
            take_chain_result(report, chain, where);
            return report;
        }
    }
    if (reader.io_error()) {
        throw Error(ExitCode::failure, file.string() + ": read failed");
    }
    if (chain.count() > 0 && chain.first_seq() == 1 &&
        chain.first_prev_hash() != store::k_genesis_hash) {
        report.problem =
            VerifyProblem{1, "", "prev_hash of the first entry is not the genesis hash"};
    }
    if (!report.problem) {
        chain.finish();
    }
    take_chain_result(report, chain, "");
    if (report.problem) {
        return report;
    }
    const auto sidecar = csv_sidecar_path(file);
    if (!std::filesystem::exists(sidecar)) {
        report.problem =
            VerifyProblem{std::nullopt, sidecar.string(),
                          "missing: a CSV export is verified with its checkpoint file"};
        return report;
    }
    FlatJsonParser parser;
    std::string error;
    std::string text = read_checkpoint_file(sidecar);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    Trailer t;
    const auto* type = parser.parse(text, error) ? parser.get("type") : nullptr;
    if (type == nullptr || type->kind != FlatJsonValue::Kind::string ||
        type->text != "checkpoint" || !read_trailer(parser, t, error)) {
        report.problem = VerifyProblem{std::nullopt, sidecar.string(),
                                       error.empty() ? "not a checkpoint file" : error};
        return report;
    }
    report.trailer_line = text;
    check_trailer(t, chain, key, sidecar.string(), report);
    return report;
}

// The stored Merkle tree must have the root recomputed from the entries, and each checkpoint
// with a root is shown consistent with the head by a proof from the stored subtrees.
bool check_stored_tree(store::AuditSnapshot& snap, const ChainVerifier& chain,
                       const std::vector<KnownCheckpoint>& known, VerifyReport& report) {
    const std::int64_t size = chain.count();
    const std::string root = chain.tree()->root();
    try {
        if (snap.tree_root(size) != root) {
            report.problem = VerifyProblem{std::max<std::int64_t>(size, 1), "",
                                           "the stored Merkle tree (audit_tree) differs from the "
                                           "tree of the entries: it was rewritten"};
            return false;
        }
        for (const auto& k : known) {
            if (k.checkpoint.legacy()) {
                report.notes.push_back(k.source +
                                       ": a checkpoint of lethe before the Merkle tree: its "
                                       "head hash is compared, it has no root");
                continue;
            }
            const auto proof =
                crypto::merkle::consistency_proof(k.checkpoint.size, size, snap.tree_reader());
            if (!crypto::merkle::verify_consistency(
                    k.checkpoint.size, size, *from_hex(k.checkpoint.root_hash), root, proof)) {
                report.problem = VerifyProblem{std::nullopt, k.source,
                                               "no consistency proof from it to the log's head"};
                return false;
            }
            report.notes.push_back(k.source + ": consistent with the head (" +
                                   std::to_string(proof.size()) + "-hash consistency proof)");
        }
    } catch (const std::runtime_error& e) {
        report.problem = VerifyProblem{std::nullopt, "", e.what()};
        return false;
    }
    report.tree_root = to_hex(root);
    return true;
}

} // namespace

std::string VerifyReport::problem_text() const {
    if (!problem) {
        return "";
    }
    std::string out;
    if (problem->seq) {
        out = "seq " + std::to_string(*problem->seq) + ": ";
        if (!problem->where.empty()) {
            out = problem->where + ": " + out;
        }
    } else if (!problem->where.empty()) {
        out = problem->where + ": ";
    }
    return out + problem->what;
}

VerifyReport verify_database(store::Database& db, const config::Config& cfg, const TrustedKeys& key,
                             const CheckpointSources& checkpoints) {
    VerifyReport report;
    std::vector<KnownCheckpoint> known;
    if (!open_given(checkpoints.files, key, report, known)) {
        return report;
    }
    store::AuditSnapshot snap(db);
    if (checkpoints.stored) {
        try {
            auto stored = stored_checkpoints(snap, cfg.audit.checkpoint_dir, key, report.notes);
            known.insert(known.end(), stored.begin(), stored.end());
        } catch (const Error& e) {
            report.problem = VerifyProblem{std::nullopt, "", e.what()};
            return report;
        }
    }
    auto chain = ChainVerifier::from_genesis();
    add_expectations(chain, known);
    // Every stored subtree is compared with its recomputation, not only those a root reads:
    // proofs read the others.
    store::AuditTreeScan scan(db.db());
    std::optional<crypto::merkle::NodeId> bad_subtree;
    chain.observe_subtrees([&](crypto::merkle::NodeId id, const std::string& hash) {
        if (!bad_subtree && !scan.matches_next(id, hash)) {
            bad_subtree = id;
        }
    });
    const auto head = snap.head();
    store::AuditCursor cursor(db, store::SeqRange{1, head.size});
    store::AuditEntryView e;
    while (cursor.next(e) && chain.add(e)) {
    }
    chain.finish();
    take_chain_result(report, chain, "");
    if (report.problem) {
        return report;
    }
    if (chain.count() != head.size || chain.last_hash() != head.hash) {
        report.problem = VerifyProblem{chain.last_seq() + 1, "", "the head moved while reading"};
        return report;
    }
    if (chain.count() == 0) {
        report.head_hash = std::string(store::k_genesis_hash);
    }
    if (bad_subtree) {
        report.problem =
            VerifyProblem{std::min(((bad_subtree->index + 1) << bad_subtree->level), head.size), "",
                          "the stored Merkle subtree (level " + std::to_string(bad_subtree->level) +
                              ", index " + std::to_string(bad_subtree->index) +
                              ") differs from the tree of the entries: audit_tree was rewritten"};
        return report;
    }
    if (!check_stored_tree(snap, chain, known, report)) {
        return report;
    }
    note_checkpoints(report, known);
    if (known.empty()) {
        report.notes.push_back("no checkpoint to compare with: removal of entries from the end "
                               "cannot be detected (run `lethe audit checkpoint`)");
    } else if (head.size > report.signed_size) {
        report.notes.push_back(std::to_string(head.size - report.signed_size) +
                               " entries after seq " + std::to_string(report.signed_size) +
                               " are not yet covered by a checkpoint");
    }
    return report;
}

VerifyReport verify_export_file(const std::filesystem::path& file, const TrustedKeys& key,
                                const std::vector<std::filesystem::path>& checkpoint_files) {
    VerifyReport report;
    std::vector<KnownCheckpoint> known;
    if (!open_given(checkpoint_files, key, report, known)) {
        return report;
    }
    // JSON Lines start with '{'; anything else is read as CSV.
    char first = 0;
    {
        InputFile in(file, FileKind::audit_export);
        in.read(&first, 1);
    }
    report = first == '{' ? verify_jsonl(file, key, known) : verify_csv(file, key, known);
    if (report.ok()) {
        auto notes = std::move(report.notes);
        report.notes.clear();
        note_checkpoints(report, known);
        report.notes.insert(report.notes.end(), notes.begin(), notes.end());
    }
    return report;
}

} // namespace lethe::audit
