#include "audit/flat_json.hpp"

#include "util/strings.hpp"

#include <bit>
#include <charconv>
#include <cstring>

namespace lethe::audit {
namespace {

constexpr std::size_t k_max_members = 32;

void skip_ws(std::string_view& in) {
    while (!in.empty() && (in[0] == ' ' || in[0] == '\t' || in[0] == '\r' || in[0] == '\n')) {
        in.remove_prefix(1);
    }
}

bool read_hex4(std::string_view in, std::uint32_t& out) {
    if (in.size() < 4) {
        return false;
    }
    out = 0;
    for (int i = 0; i < 4; ++i) {
        int v = hex_digit_value(in[static_cast<std::size_t>(i)]);
        if (v < 0) {
            return false;
        }
        out = out << 4 | static_cast<std::uint32_t>(v);
    }
    return true;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | cp >> 6));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | cp >> 12));
        out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | cp >> 18));
        out.push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

} // namespace

bool FlatJsonParser::parse_string(std::string_view& in, std::string_view& out, std::string& error) {
    // `in` starts just after the opening quote.
    std::size_t i = 0;
    bool ascii = true;
    while (i < in.size() && in[i] != '"' && in[i] != '\\') {
        auto c = static_cast<unsigned char>(in[i]);
        if (c < 0x20) {
            error = "control character inside a string";
            return false;
        }
        ascii = ascii && c < 0x80;
        ++i;
    }
    if (i == in.size()) {
        error = "unterminated string";
        return false;
    }
    if (in[i] == '"') {
        // The common case: no escapes, so the value is a view into the line itself.
        out = in.substr(0, i);
        if (!ascii && !is_valid_utf8(out)) {
            error = "string is not valid UTF-8";
            return false;
        }
        in.remove_prefix(i + 1);
        return true;
    }
    if (m_pool_used == m_pool.size()) {
        error = "too many escaped strings";
        return false;
    }
    std::string& buf = m_pool[m_pool_used++];
    buf.assign(in.substr(0, i));
    in.remove_prefix(i);
    while (true) {
        if (in.empty()) {
            error = "unterminated string";
            return false;
        }
        char ch = in[0];
        if (ch == '"') {
            in.remove_prefix(1);
            break;
        }
        if (static_cast<unsigned char>(ch) < 0x20) {
            error = "control character inside a string";
            return false;
        }
        if (ch != '\\') {
            buf.push_back(ch);
            in.remove_prefix(1);
            continue;
        }
        if (in.size() < 2) {
            error = "unterminated escape";
            return false;
        }
        char esc = in[1];
        in.remove_prefix(2);
        switch (esc) {
        case '"':
        case '\\':
        case '/':
            buf.push_back(esc);
            break;
        case 'b':
            buf.push_back('\b');
            break;
        case 'f':
            buf.push_back('\f');
            break;
        case 'n':
            buf.push_back('\n');
            break;
        case 'r':
            buf.push_back('\r');
            break;
        case 't':
            buf.push_back('\t');
            break;
        case 'u': {
            std::uint32_t cp = 0;
            if (!read_hex4(in, cp)) {
                error = "bad \\u escape";
                return false;
            }
            in.remove_prefix(4);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                std::uint32_t lo = 0;
                if (in.size() < 6 || in[0] != '\\' || in[1] != 'u' ||
                    !read_hex4(in.substr(2), lo) || lo < 0xDC00 || lo > 0xDFFF) {
                    error = "unpaired surrogate in \\u escape";
                    return false;
                }
                in.remove_prefix(6);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                error = "unpaired surrogate in \\u escape";
                return false;
            }
            append_utf8(buf, cp);
            break;
        }
        default:
            error = "unknown escape";
            return false;
        }
    }
    if (!is_valid_utf8(buf)) {
        error = "string is not valid UTF-8";
        return false;
    }
    out = buf;
    return true;
}

bool FlatJsonParser::parse(std::string_view in, std::string& error) {
    m_members.clear();
    m_pool_used = 0;
    skip_ws(in);
    if (in.empty() || in[0] != '{') {
        error = "not a JSON object";
        return false;
    }
    in.remove_prefix(1);
    skip_ws(in);
    if (!in.empty() && in[0] == '}') {
        in.remove_prefix(1);
    } else {
        while (true) {
            skip_ws(in);
            if (in.empty() || in[0] != '"') {
                error = "expected a member name";
                return false;
            }
            in.remove_prefix(1);
            std::string_view key;
            if (!parse_string(in, key, error)) {
                return false;
            }
            skip_ws(in);
            if (in.empty() || in[0] != ':') {
                error = "expected ':'";
                return false;
            }
            in.remove_prefix(1);
            skip_ws(in);
            if (in.empty()) {
                error = "missing value";
                return false;
            }
            FlatJsonValue v;
            if (in[0] == '"') {
                in.remove_prefix(1);
                v.kind = FlatJsonValue::Kind::string;
                if (!parse_string(in, v.text, error)) {
                    return false;
                }
            } else if (in.starts_with("null")) {
                v.kind = FlatJsonValue::Kind::null;
                in.remove_prefix(4);
            } else if (in[0] == '-' || (in[0] >= '0' && in[0] <= '9')) {
                v.kind = FlatJsonValue::Kind::integer;
                auto [ptr, ec] = std::from_chars(in.data(), in.data() + in.size(), v.number);
                if (ec != std::errc()) {
                    error = "number out of range";
                    return false;
                }
                std::size_t used = static_cast<std::size_t>(ptr - in.data());
                if (used < in.size() && (in[used] == '.' || in[used] == 'e' || in[used] == 'E')) {
                    error = "numbers must be integers";
                    return false;
                }
                const std::size_t sign = in[0] == '-' ? 1 : 0;
                std::string_view digits = in.substr(sign, used - sign);
                if (digits.size() > 1 && digits[0] == '0') {
                    error = "number with a leading zero";
                    return false;
                }
                in.remove_prefix(used);
            } else {
                error = "member \"" + std::string(key) + "\" is not a string, integer or null";
                return false;
            }
            for (const auto& m : m_members) {
                if (m.first == key) {
                    error = "duplicate member \"" + std::string(key) + "\"";
                    return false;
                }
            }
            if (m_members.size() == k_max_members) {
                error = "too many members";
                return false;
            }
            m_members.emplace_back(key, v);
            skip_ws(in);
            if (!in.empty() && in[0] == ',') {
                in.remove_prefix(1);
                continue;
            }
            if (!in.empty() && in[0] == '}') {
                in.remove_prefix(1);
                break;
            }
            error = "expected ',' or '}'";
            return false;
        }
    }
    skip_ws(in);
    if (!in.empty()) {
        error = "text after the object";
        return false;
    }
    return true;
}

const FlatJsonValue* FlatJsonParser::get(std::string_view key) const {
    for (const auto& m : m_members) {
        if (m.first == key) {
            return &m.second;
        }
    }
    return nullptr;
}

namespace {

char* write_control_escape(char* out, unsigned char c) {
    static constexpr char k_digits[] = "0123456789abcdef";
    out[0] = '\\';
    switch (c) {
    case '\n':
        out[1] = 'n';
        return out + 2;
    case '\r':
        out[1] = 'r';
        return out + 2;
    case '\t':
        out[1] = 't';
        return out + 2;
    default:
        std::memcpy(out + 1, "u00", 3);
        out[4] = k_digits[c >> 4];
        out[5] = k_digits[c & 0x0f];
        return out + 6;
    }
}

} // namespace

namespace {

char* write_escaped_byte(char* out, unsigned char c) {
    if (c < 0x20) {
        return write_control_escape(out, c);
    }
    if (c == '"' || c == '\\') {
        *out++ = '\\';
    }
    *out++ = static_cast<char>(c);
    return out;
}

constexpr std::uint64_t k_ones = 0x0101010101010101;
constexpr std::uint64_t k_highs = k_ones * 0x80;

// Flags (high bit of the byte) the bytes of `w` that must be escaped: below 0x20, '"' and '\'.
// The classic SWAR tests: the lowest flagged byte is always right; a flag above it may be a
// false one caused by the borrow, which is why only the lowest is used.
std::uint64_t bytes_to_escape(std::uint64_t w) {
    auto zero_bytes = [](std::uint64_t v) {
        return (v - k_ones) & ~v & k_highs;
    };
    const std::uint64_t below_space = (w - k_ones * 0x20) & ~w & k_highs;
    return below_space | zero_bytes(w ^ (k_ones * '"')) | zero_bytes(w ^ (k_ones * '\\'));
}

} // namespace

char* write_json_literal(char* out, std::string_view s, bool& valid_utf8) {
    *out++ = '"';
    std::uint64_t high_bits = 0;
    std::size_t i = 0;
    const std::size_t n = s.size();
    if constexpr (std::endian::native == std::endian::little) {
        // Eight bytes at a time: hashes, times and names have nothing to escape, so most words
        // are copied with one store. The export of a million entries spends its time here.
        while (n - i >= 8) {
            std::uint64_t w;
            std::memcpy(&w, s.data() + i, 8);
            high_bits |= w;
            std::memcpy(out, &w, 8); // room: at most 6 bytes out per byte in, plus 2
            const std::uint64_t flagged = bytes_to_escape(w);
            if (flagged == 0) {
                out += 8;
                i += 8;
                continue;
            }
            const auto plain = static_cast<std::size_t>(std::countr_zero(flagged) / 8);
            out = write_escaped_byte(out + plain, static_cast<unsigned char>(s[i + plain]));
            i += plain + 1;
        }
    }
    for (; i < n; ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        high_bits |= c;
        out = write_escaped_byte(out, c);
    }
    *out++ = '"';
    if ((high_bits & k_highs) != 0 && !is_valid_utf8(s)) {
        valid_utf8 = false;
    }
    return out;
}

bool append_json_literal(std::string& out, std::string_view s) {
    const std::size_t at = out.size();
    out.resize(at + json_literal_max_size(s.size()));
    bool valid_utf8 = true;
    const char* end = write_json_literal(out.data() + at, s, valid_utf8);
    out.resize(static_cast<std::size_t>(end - out.data()));
    return valid_utf8;
}

} // namespace lethe::audit
