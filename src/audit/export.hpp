#pragma once

#include "audit/checkpoint.hpp"
#include "store/audit_log.hpp"
#include "store/database.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// `lethe audit export`: the audit log as JSON Lines or CSV with a signed checkpoint
// (docs/audit-format.md, "Export files").
namespace lethe::audit {

// The value of the trailer's "format" member: version 3 signs every member that matters in its
// trailer_note; version 2 carries Merkle roots in its notes and the start_tree and head_proof
// members (and leaves since, until and exported_at unsigned).
inline constexpr std::string_view k_export_format = "lethe-audit-export/3";
inline constexpr std::string_view k_export_format_v2 = "lethe-audit-export/2";
// Exports of lethe before the Merkle tree (legacy notes, no start_tree or head_proof).
inline constexpr std::string_view k_export_format_v1 = "lethe-audit-export/1";

// The entry columns, in the order they are written.
inline constexpr const char* k_entry_fields[] = {
    "seq", "at", "event", "request_ref", "subject_digest", "detail", "prev_hash", "hash"};

// The trailer's members that trailer_note signs (docs/audit-format.md, "The signed trailer").
struct ExportTrailer {
    std::string origin;
    std::optional<std::int64_t> first_seq; // null for an empty export
    std::optional<std::int64_t> last_seq;
    std::int64_t count = 0;
    std::optional<std::string> since; // ISO 8601 as written, or null
    std::optional<std::string> until;
    std::int64_t log_size = 0;
    std::string log_head;
    std::string exported_at;
    std::string start_note; // the notes themselves; the statement signs their SHA-256
    std::string end_note;
    std::string head_note;
    std::string start_tree;
    std::string head_proof;
};

// The statement trailer_note signs: tag k_export_format, then every member above in order,
// integers in decimal, absent values as "null", each note as the hex SHA-256 of its bytes.
Statement trailer_statement(const ExportTrailer& t);

// Output format of an export.
enum class ExportFormat { jsonl, csv };

// What to export and where.
struct ExportOptions {
    ExportFormat format = ExportFormat::jsonl;
    std::optional<TimeMs> since;          // entries at or after this time
    std::optional<TimeMs> until;          // entries before this time
    std::filesystem::path output;         // empty: stdout (JSON Lines only)
    std::filesystem::path checkpoint_dir; // where latest.note is looked for ([audit])
    // [[audit.witness]] names and witness_quorum: the newest checkpoint they witnessed goes into
    // the trailer (witnessed_note, witnessed_proof). Empty: none.
    std::vector<std::string> witnesses;
    std::int64_t witness_quorum = 0;
};

// What an export wrote.
struct ExportSummary {
    std::int64_t count = 0;
    std::int64_t first_seq = 0; // 0 when empty
    std::int64_t last_seq = 0;
    std::int64_t log_size = 0;
    std::filesystem::path sidecar; // CSV: the checkpoint file beside it
    std::uint64_t bytes = 0;
};

// Streams the entries (a contiguous seq range covering the time range) from one snapshot,
// verifying the chain as it goes, then appends the signed trailer (JSON Lines) or writes it
// beside the file (CSV: FILE.checkpoint.json). Memory stays flat. Throws lethe::Error when the
// chain is broken (nothing is signed, a file output is removed), on I/O errors, or for CSV
// without an output file.
ExportSummary export_audit_log(store::Database& db, const CheckpointSigner& signer,
                               const Clock& clock, const ExportOptions& options);

// One JSON Lines entry line as an export writes it (with its newline). Throws lethe::Error when a
// field is not valid UTF-8.
std::string jsonl_entry_line(const store::AuditEntryView& e);

// The checkpoint file written beside a CSV export.
std::filesystem::path csv_sidecar_path(const std::filesystem::path& csv);

} // namespace lethe::audit
