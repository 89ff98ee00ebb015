#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lethe {

// Lower-case hex of bytes.
std::string to_hex(std::string_view bytes);

namespace detail {
// Digit values indexed by byte, -1 for a byte that is not a hex digit: a table in the header so
// that decoding (twice per audit entry in an export or a verify) is inlined into its loop.
inline constexpr std::array<signed char, 256> k_hex_values = [] {
    std::array<signed char, 256> t{};
    t.fill(-1);
    for (int i = 0; i < 10; ++i) {
        t['0' + i] = static_cast<signed char>(i);
    }
    for (int i = 0; i < 6; ++i) {
        t['a' + i] = t['A' + i] = static_cast<signed char>(10 + i);
    }
    return t;
}();
} // namespace detail

// The value of one hex digit (either case), or -1 when `c` is not a hex digit.
inline int hex_digit_value(char c) {
    return detail::k_hex_values[static_cast<unsigned char>(c)];
}

// Bytes from hex (either case); nullopt when the text is not even-length hex.
std::optional<std::string> from_hex(std::string_view hex);

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool is_valid_utf8(std::string_view s);

// True when `s` contains an ASCII control character (0x00-0x1F, 0x7F) or a C1 control
// (U+0080-U+009F).
bool has_control_chars(std::string_view s);

// Removes ASCII spaces and tabs at both ends.
std::string_view trim(std::string_view s);

// ASCII lower case.
std::string to_lower(std::string_view s);

// Appends `s` to `out` as a JSON string literal (with quotes).
void append_json_string(std::string& out, std::string_view s);

// Parses a non-negative decimal integer that fits in int64; nullopt otherwise.
std::optional<std::int64_t> parse_int64(std::string_view s);

} // namespace lethe
