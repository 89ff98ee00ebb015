#include "intake/csv_reader.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace lethe::intake {
namespace {

// Byte classes for the scanning loops: a field's ordinary bytes are copied in one append, and
// the loop stops only at the few bytes that change the parser's state.
constexpr std::string_view k_bom = "\xEF\xBB\xBF";

using ByteTable = std::array<bool, 256>;

constexpr ByteTable make_table(std::initializer_list<unsigned char> stops) {
    ByteTable t{};
    for (unsigned char c : stops) {
        t[c] = true;
    }
    return t;
}

constexpr ByteTable k_unquoted_stops = make_table({',', '"', '\n', '\r', '\0'});
constexpr ByteTable k_quoted_stops = make_table({'"', '\n', '\r', '\0'});

const char* scan(const char* p, const char* end, const ByteTable& stops) {
    // Four bytes per step: typical fields are short, but long ones (addresses, ids) are common
    // enough that the unrolled loop pays for itself.
    while (end - p >= 4) {
        if (stops[static_cast<unsigned char>(p[0])]) {
            return p;
        }
        if (stops[static_cast<unsigned char>(p[1])]) {
            return p + 1;
        }
        if (stops[static_cast<unsigned char>(p[2])]) {
            return p + 2;
        }
        if (stops[static_cast<unsigned char>(p[3])]) {
            return p + 3;
        }
        p += 4;
    }
    while (p < end && !stops[static_cast<unsigned char>(*p)]) {
        ++p;
    }
    return p;
}

} // namespace

CsvReader::CsvReader(std::istream& in, CsvLimits limits)
    : m_in(in), m_limits(limits), m_block(std::max<std::size_t>(limits.read_block_bytes, 1)),
      m_buf(std::max(m_block, k_bom.size())) {
}

bool CsvReader::fill() {
    while (!m_eof) {
        m_buf_offset += m_end;
        m_pos = 0;
        m_end = 0;
        // The first read takes exactly the length of a BOM, so one is never split across reads,
        // whatever the block size.
        const std::size_t want = m_started ? m_block : k_bom.size();
        m_in.read(m_buf.data(), static_cast<std::streamsize>(want));
        m_end = static_cast<std::size_t>(m_in.gcount());
        if (m_end == 0) {
            m_eof = true;
            m_io_error = m_in.bad();
            return false;
        }
        if (!m_started) {
            m_started = true;
            if (std::string_view(m_buf.data(), m_end) == k_bom) {
                m_pos = m_end;
            }
        }
        if (m_pos < m_end) {
            return true;
        }
    }
    return false;
}

// Consumes LF, CRLF or a lone CR at m_pos: one physical line break.
void CsvReader::consume_line_break() {
    char c = m_buf[m_pos++];
    ++m_line;
    if (c == '\r' && !at_end() && m_buf[m_pos] == '\n') {
        ++m_pos;
    }
}

std::string CsvReader::where(const CsvRecord& out) const {
    std::string s = "column " + std::to_string(m_field_count);
    if (m_line != out.line) {
        s += ", line " + std::to_string(m_line);
    }
    return s;
}

void CsvReader::fail(CsvRecord& out, const std::string& reason) {
    if (m_failed) {
        return; // the first problem is the one worth reporting
    }
    m_failed = true;
    out.error = reason;
    // Give back memory now: the rest of a bad record is skipped, not stored.
    out.fields.clear();
}

void CsvReader::start_field(CsvRecord& out) {
    if (m_field_count >= m_limits.max_fields) {
        fail(out, "record has more than " + std::to_string(m_limits.max_fields) + " fields");
    }
    ++m_field_count;
    if (m_failed) {
        return;
    }
    if (m_field_count <= out.fields.size()) {
        out.fields[m_field_count - 1].clear();
    } else {
        out.fields.emplace_back();
    }
}

void CsvReader::append(CsvRecord& out, const char* begin, std::size_t n) {
    if (m_failed || n == 0) {
        return;
    }
    std::string& field = out.fields[m_field_count - 1];
    if (field.size() + n > m_limits.max_field_bytes) {
        std::string reason = "field in " + where(out) + " is longer than " +
                             std::to_string(m_limits.max_field_bytes) + " bytes";
        if (m_quote_line != 0) {
            reason += " (is the closing quote of the field opened on line " +
                      std::to_string(m_quote_line) + " missing?)";
        }
        fail(out, reason);
        return;
    }
    if (m_record_bytes + n > m_limits.max_record_bytes) {
        fail(out, "record is longer than " + std::to_string(m_limits.max_record_bytes) + " bytes");
        return;
    }
    field.append(begin, n);
    m_record_bytes += n;
}

bool CsvReader::finish(CsvRecord& out) {
    if (m_failed) {
        out.fields.clear();
    } else {
        out.fields.resize(m_field_count);
    }
    return true;
}

bool CsvReader::next(CsvRecord& out) {
    out.error.clear();
    m_field_count = 0;
    m_record_bytes = 0;
    m_quote_line = 0;
    m_failed = false;

    // Empty lines are not records, but they still count for line numbers.
    for (;;) {
        if (at_end()) {
            return false;
        }
        char c = m_buf[m_pos];
        if (c != '\n' && c != '\r') {
            break;
        }
        consume_line_break();
    }
    out.line = m_line;
    start_field(out);

    State state = State::field_start;
    for (;;) {
        if (at_end()) {
            if (state == State::quoted) {
                fail(out,
                     "unterminated quoted field starting at line " + std::to_string(m_quote_line));
            }
            return finish(out);
        }
        const char* data = m_buf.data();
        switch (state) {
        case State::field_start:
            if (data[m_pos] == '"') {
                ++m_pos;
                m_quote_line = m_line;
                state = State::quoted;
            } else {
                m_quote_line = 0;
                state = State::unquoted;
            }
            break;

        case State::unquoted: {
            const char* p = scan(data + m_pos, data + m_end, k_unquoted_stops);
            append(out, data + m_pos, static_cast<std::size_t>(p - (data + m_pos)));
            m_pos = static_cast<std::size_t>(p - data);
            if (m_pos == m_end) {
                break; // refill and keep scanning the same field
            }
            switch (*p) {
            case ',':
                ++m_pos;
                start_field(out);
                state = State::field_start;
                break;
            case '\n':
            case '\r':
                consume_line_break();
                return finish(out);
            case '"':
                fail(out, "bare quote in unquoted field (" + where(out) +
                              "); quote the whole field and double the quotes inside it");
                state = State::skip_line;
                break;
            default: // NUL
                fail(out, "NUL byte in " + where(out) + " (is this a binary file?)");
                state = State::skip_line;
                break;
            }
            break;
        }

        case State::quoted: {
            const char* p = scan(data + m_pos, data + m_end, k_quoted_stops);
            append(out, data + m_pos, static_cast<std::size_t>(p - (data + m_pos)));
            m_pos = static_cast<std::size_t>(p - data);
            if (m_pos == m_end) {
                break;
            }
            switch (*p) {
            case '"':
                ++m_pos;
                state = State::after_quote;
                break;
            case '\n':
                append(out, p, 1);
                ++m_pos;
                ++m_line;
                break;
            case '\r':
                // Kept verbatim, and counted as one line whether or not an LF follows.
                append(out, p, 1);
                ++m_pos;
                ++m_line;
                if (!at_end() && m_buf[m_pos] == '\n') {
                    append(out, m_buf.data() + m_pos, 1);
                    ++m_pos;
                }
                break;
            default: // NUL
                // Keep following the quotes (without storing) so the record still ends where
                // its closing quote says, instead of resyncing in the middle of the field.
                fail(out, "NUL byte in " + where(out) + " (is this a binary file?)");
                ++m_pos;
                break;
            }
            break;
        }

        case State::after_quote:
            switch (data[m_pos]) {
            case '"': // a doubled quote stands for one quote
                append(out, data + m_pos, 1);
                ++m_pos;
                state = State::quoted;
                break;
            case ',':
                ++m_pos;
                start_field(out);
                state = State::field_start;
                break;
            case '\n':
            case '\r':
                consume_line_break();
                return finish(out);
            default:
                fail(out, "unexpected character after closing quote (" + where(out) +
                              "); a quoted field must be followed by a comma or the line end");
                state = State::skip_line;
                break;
            }
            break;

        case State::skip_line: {
            // Resync: drop everything up to the next line break, quotes included.
            const char* p = data + m_pos;
            const char* end = data + m_end;
            while (p < end && *p != '\n' && *p != '\r') {
                ++p;
            }
            m_pos = static_cast<std::size_t>(p - data);
            if (m_pos < m_end) {
                consume_line_break();
                return finish(out);
            }
            break;
        }
        }
    }
}

} // namespace lethe::intake
