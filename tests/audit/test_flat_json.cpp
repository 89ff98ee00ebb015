#include "audit/chain.hpp"
#include "audit/flat_json.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace lethe;

namespace {

// The escaping rules of docs/audit-format.md, one byte at a time: the reference the word-at-a-time
// writer must agree with.
std::string reference_literal(std::string_view s) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out = "\"";
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20) {
            out += "\\u00";
            out += digits[c >> 4];
            out += digits[c & 0x0f];
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

std::string literal(std::string_view s, bool& valid_utf8) {
    std::string out(audit::json_literal_max_size(s.size()), '\0');
    const char* end = audit::write_json_literal(out.data(), s, valid_utf8);
    out.resize(static_cast<std::size_t>(end - out.data()));
    return out;
}

} // namespace

TEST_CASE("JSON literals escape every byte value at every offset within a word", "[audit][json]") {
    // Each byte in 0x00..0x7f (all ASCII, so valid UTF-8 alone) at each offset of strings long
    // enough to go through the eight-byte path and its tail, beside other bytes to escape.
    for (int c = 0; c < 0x80; ++c) {
        for (std::size_t length : {1, 7, 8, 9, 16, 23, 40}) {
            for (std::size_t at = 0; at < length; ++at) {
                std::string s(length, 'x');
                s[at] = static_cast<char>(c);
                if (at + 2 < length) {
                    s[at + 2] = '"';
                }
                bool valid = true;
                const std::string got = literal(s, valid);
                INFO("byte " << c << " at " << at << " of " << length);
                REQUIRE(got == reference_literal(s));
                REQUIRE(valid);
            }
        }
    }
}

TEST_CASE("JSON literals keep UTF-8 as is and flag invalid UTF-8", "[audit][json]") {
    bool valid = true;
    CHECK(literal("Zoë \"Ω\" 日本語 \xF0\x9F\x98\x80 and more", valid) ==
          "\"Zoë \\\"Ω\\\" 日本語 \xF0\x9F\x98\x80 and more\"");
    CHECK(valid);
    for (std::string bad :
         {"\xff", "abcdefgh\xc3", "abcdefghijklmnop\x80", "\xed\xa0\x80xxxxxxxx"}) {
        bool flag = true;
        (void)literal(bad, flag);
        CHECK_FALSE(flag);
        std::string appended;
        CHECK_FALSE(audit::append_json_literal(appended, bad));
    }
}

TEST_CASE("append_json_literal appends the same bytes and parses back", "[audit][json]") {
    std::string s;
    for (int c = 1; c < 0x80; ++c) {
        s += static_cast<char>(c);
    }
    s += "\\\\\"\"\n\n";
    std::string line = "{\"k\":";
    REQUIRE(audit::append_json_literal(line, s));
    CHECK(line.substr(5) == reference_literal(s));
    line += "}";
    audit::FlatJsonParser parser;
    std::string error;
    REQUIRE(parser.parse(line, error));
    REQUIRE(parser.get("k") != nullptr);
    CHECK(parser.get("k")->text == s);
}

TEST_CASE("a hash is exactly 64 lower-case hex digits", "[audit][chain]") {
    const std::string good = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    REQUIRE(audit::is_hash_hex(good));
    CHECK_FALSE(audit::is_hash_hex(good.substr(1)));
    CHECK_FALSE(audit::is_hash_hex(good + "0"));
    CHECK_FALSE(audit::is_hash_hex(""));
    int rejected = 0;
    for (int c = 0; c < 256; ++c) {
        const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        for (std::size_t at = 0; at < 64; ++at) {
            std::string h = good;
            h[at] = static_cast<char>(c);
            INFO("byte " << c << " at " << at);
            REQUIRE(audit::is_hash_hex(h) == hex);
            rejected += hex ? 0 : 1;
        }
    }
    CHECK(rejected == (256 - 16) * 64);
}
