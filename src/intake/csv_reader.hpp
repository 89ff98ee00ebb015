#pragma once

#include <cstddef>
#include <istream>
#include <string>
#include <vector>

namespace lethe::intake {

// One CSV record as read from the input.
struct CsvRecord {
    std::size_t line = 0;            // 1-based physical line where the record starts
    std::vector<std::string> fields; // the unquoted field values; empty when `error` is set
    std::string error;               // non-empty: this record is malformed, reason in plain words
};

// Bounds that keep memory flat on hostile input (exceeding one makes an error record), and the
// reader's block size.
struct CsvLimits {
    std::size_t max_field_bytes = 1024 * 1024;      // longest field value
    std::size_t max_fields = 1000;                  // most fields in one record
    std::size_t max_record_bytes = 4 * 1024 * 1024; // most field bytes in one record, all fields
    std::size_t read_block_bytes = 64 * 1024;       // bytes per read from the stream (tests: tiny)
};

// Streaming RFC 4180 reader: commas, optional double quotes (doubled inside), records ended by
// LF, CRLF or a lone CR, a leading UTF-8 BOM skipped, empty lines skipped but counted. Reads the
// stream in blocks (64 KiB by default); memory is bounded by CsvLimits, not by the input size.
class CsvReader {
public:
    // Reads from `in`, which must outlive the reader; never throws on malformed input.
    explicit CsvReader(std::istream& in, CsvLimits limits = {});

    // Reads the next record into `out` (reusing its buffers); a malformed record comes back with
    // `error` set and reading resumes at the next line. Returns false at end of input.
    bool next(CsvRecord& out);

    // Bytes of input consumed by the records returned so far (BOM included), for progress.
    std::size_t bytes_read() const { return m_buf_offset + m_pos; }

    // True when reading stopped because the stream failed (badbit), not at a clean end of input;
    // the records returned may then be incomplete. False otherwise.
    bool io_error() const { return m_io_error; }

private:
    enum class State { field_start, unquoted, quoted, after_quote, skip_line };

    bool fill();
    bool at_end() { return m_pos == m_end && !fill(); }
    void consume_line_break();
    void fail(CsvRecord& out, const std::string& reason);
    std::string where(const CsvRecord& out) const;
    void start_field(CsvRecord& out);
    void append(CsvRecord& out, const char* begin, std::size_t n);
    bool finish(CsvRecord& out);

    std::istream& m_in;
    CsvLimits m_limits;
    std::size_t m_block;
    std::vector<char> m_buf;
    std::size_t m_pos = 0;
    std::size_t m_end = 0;
    std::size_t m_buf_offset = 0; // stream offset of m_buf[0]
    std::size_t m_line = 1;       // physical line of m_buf[m_pos]
    bool m_started = false;
    bool m_eof = false;
    bool m_io_error = false;

    // State of the record being read.
    std::size_t m_field_count = 0;
    std::size_t m_record_bytes = 0;
    std::size_t m_quote_line = 0;
    bool m_failed = false;
};

} // namespace lethe::intake
