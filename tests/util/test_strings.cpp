#include "util/strings.hpp"

#include <catch2/catch.hpp>

using namespace lethe;

TEST_CASE("hex round-trips and rejects bad input", "[util][strings]") {
    CHECK(to_hex(std::string("\x00\xff\x10", 3)) == "00ff10");
    CHECK(from_hex("00FF10") == std::string("\x00\xff\x10", 3));
    CHECK_FALSE(from_hex("0").has_value());
    CHECK_FALSE(from_hex("zz").has_value());
}

TEST_CASE("UTF-8 validation", "[util][strings]") {
    CHECK(is_valid_utf8("plain ascii"));
    CHECK(is_valid_utf8("J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x98\x80"));
    CHECK_FALSE(is_valid_utf8("\xc3"));             // truncated
    CHECK_FALSE(is_valid_utf8("\xc0\xaf"));         // overlong '/'
    CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));     // surrogate
    CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80")); // above U+10FFFF
    CHECK_FALSE(is_valid_utf8("\xff"));
}

TEST_CASE("control characters are found", "[util][strings]") {
    CHECK_FALSE(has_control_chars("user@example.com"));
    CHECK(has_control_chars("a\tb"));
    CHECK(has_control_chars(std::string("a\0b", 3)));
    CHECK(has_control_chars("a\x7f"));
    CHECK(has_control_chars("a\xc2\x85"));
    CHECK_FALSE(has_control_chars("\xc2\xa0"));
}

TEST_CASE("JSON string escaping", "[util][strings]") {
    std::string out;
    append_json_string(out, "a\"b\\c\n\x01");
    CHECK(out == "\"a\\\"b\\\\c\\n\\u0001\"");
}
