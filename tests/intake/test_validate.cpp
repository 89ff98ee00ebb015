#include "intake/validate.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace lethe;
using namespace lethe::intake;

namespace {

const TimeMs k_now = *parse_iso8601("2024-06-01T12:00:00Z");

Validation check(std::string identifier, std::string id_type = "", std::string request_id = "",
                 std::string received_at = "") {
    RawRequest raw{std::move(identifier),
                   std::move(id_type),
                   std::move(request_id),
                   std::move(received_at),
                   {}};
    Validation v = validate_request(raw, k_now);
    // Exactly one of the two is set, whatever the input.
    CHECK(v.request.has_value() == v.reason.empty());
    return v;
}

// Expects a rejection whose reason starts with `prefix` and does not quote the identifier.
void rejected(const Validation& v, const std::string& identifier, const std::string& prefix) {
    INFO("reason: " << v.reason);
    REQUIRE_FALSE(v.request.has_value());
    CHECK_THAT(v.reason, Catch::StartsWith(prefix));
    // The bare prefix "cio_" appears in reasons by design; it is not personal data.
    std::string trimmed(lethe::trim(identifier));
    if (trimmed.size() >= 3 && trimmed != "cio_") {
        CHECK(v.reason.find(trimmed) == std::string::npos);
    }
}

} // namespace

TEST_CASE("id types: names, parsing and inference", "[intake][validate]") {
    CHECK(to_string(IdType::id) == "id");
    CHECK(to_string(IdType::email) == "email");
    CHECK(to_string(IdType::cio_id) == "cio_id");
    for (IdType t : {IdType::id, IdType::email, IdType::cio_id}) {
        CHECK(parse_id_type(to_string(t)) == t);
    }
    CHECK_FALSE(parse_id_type("Email").has_value());
    CHECK_FALSE(parse_id_type("e-mail").has_value());
    CHECK_FALSE(parse_id_type("").has_value());
    CHECK_FALSE(parse_id_type(" id").has_value());

    CHECK(infer_id_type("cio_abc123") == IdType::cio_id);
    CHECK(infer_id_type("cio_x@example.com") == IdType::cio_id);
    CHECK(infer_id_type("a@example.com") == IdType::email);
    CHECK(infer_id_type("12345") == IdType::id);
    CHECK(infer_id_type("CIO_abc") == IdType::id);
}

TEST_CASE("validate: a full request is trimmed, typed and parsed", "[intake][validate]") {
    auto v = check("  ann@example.com\t", " Email ", " ZD-1234 ", " 2024-05-01T09:30:00Z ");
    REQUIRE(v.request);
    CHECK(v.request->identifier == "ann@example.com");
    CHECK(v.request->id_type == IdType::email);
    CHECK(v.request->request_id == "ZD-1234");
    CHECK(v.request->received_at == parse_iso8601("2024-05-01T09:30:00Z"));

    auto bare = check("42");
    REQUIRE(bare.request);
    CHECK(bare.request->id_type == IdType::id);
    CHECK(bare.request->request_id.empty());
    CHECK_FALSE(bare.request->received_at.has_value());
}

TEST_CASE("validate: identifier rules", "[intake][validate]") {
    rejected(check(""), "", "identifier is missing or empty");
    rejected(check(" \t "), "", "identifier is missing or empty");

    CHECK(check(std::string(150, 'x')).request);
    CHECK(check("  " + std::string(150, 'x') + "  ").request); // length counts after trimming
    std::string long_id(151, 'x');
    rejected(check(long_id), long_id, "identifier is 151 bytes long; at most 150");

    CHECK(check("J\xc3\xbcrgen-\xe2\x82\xac").request);
    rejected(check("bad\xc3utf8"), "bad\xc3utf8", "identifier is not valid UTF-8");

    rejected(check("user\x01name"), "user\x01name",
             "identifier: character U+0001 (control character) at position 5 is not allowed");
    rejected(check("user\nname"), "user\nname",
             "identifier: character U+000A (line feed) at position 5 is not allowed");
    rejected(check("user\x7fname"), "user\x7fname",
             "identifier: character U+007F (control character) at position 5 is not allowed");
    rejected(check("user\xc2\x85name"), "user\xc2\x85name",
             "identifier: character U+0085 (next line) at position 5 is not allowed");
    rejected(check("inner\ttab"), "inner\ttab",
             "identifier: character U+0009 (tab) at position 6 is not allowed");

    auto spaced = check("an id with spaces");
    REQUIRE(spaced.request);
    CHECK(spaced.request->id_type == IdType::id);
}

TEST_CASE("validate: invisible, ambiguous and unassigned characters are refused with their "
          "position",
          "[intake][validate]") {
    struct Bad {
        const char* what;
        std::string identifier;
        std::string reason;
    };
    // Adjacent literals keep a hex escape from swallowing the letters after it.
    const Bad bad[] = {
        {"trailing NBSP", "nb@example.com\xc2\xa0",
         "identifier: character U+00A0 (no-break space) at position 15 is not allowed"},
        {"ZWSP",
         "ann\xe2\x80\x8b"
         "@example.com",
         "identifier: character U+200B (zero width space) at position 4 is not allowed"},
        {"ZWJ",
         "a\xe2\x80\x8d"
         "b",
         "identifier: character U+200D (zero width joiner) at position 2 is not allowed"},
        {"right-to-left override",
         "user\xe2\x80\xae"
         "24",
         "identifier: character U+202E (right-to-left override) at position 5 is not allowed"},
        {"left-to-right isolate",
         "user\xe2\x81\xa6"
         "24",
         "identifier: character U+2066 (left-to-right isolate) at position 5 is not allowed"},
        {"right-to-left mark",
         "\xe2\x80\x8f"
         "42",
         "identifier: character U+200F (right-to-left mark) at position 1 is not allowed"},
        {"line separator",
         "line\xe2\x80\xa8"
         "two",
         "identifier: character U+2028 (line separator) at position 5 is not allowed"},
        {"paragraph separator",
         "para\xe2\x80\xa9"
         "two",
         "identifier: character U+2029 (paragraph separator) at position 5 is not allowed"},
        {"inner BOM",
         "ab\xef\xbb\xbf"
         "cd",
         "identifier: character U+FEFF (byte order mark) at position 3 is not allowed"},
        {"BOM at the start",
         "\xef\xbb\xbf"
         "abc",
         "identifier: character U+FEFF (byte order mark) at position 1 is not allowed"},
        // Positions count the field as written, leading blanks included.
        {"BOM after leading blanks",
         " \t\xef\xbb\xbf"
         "abc",
         "identifier: character U+FEFF (byte order mark) at position 3 is not allowed"},
        {"soft hyphen",
         "jo\xc2\xad"
         "hn@example.com",
         "identifier: character U+00AD (soft hyphen) at position 3 is not allowed"},
        {"ideographic space",
         "a\xe3\x80\x80"
         "b",
         "identifier: character U+3000 (ideographic space) at position 2 is not allowed"},
        {"unnamed space (ogham)",
         "a\xe1\x9a\x80"
         "b",
         "identifier: character U+1680 (ogham space mark) at position 2 is not allowed"},
        {"private use", "id\xee\x80\x80",
         "identifier: character U+E000 (private-use character) at position 3 is not allowed"},
        {"private use, plane 15", "id\xf3\xb0\x80\x80",
         "identifier: character U+F0000 (private-use character) at position 3 is not allowed"},
        {"unassigned", "id\xcd\xb8",
         "identifier: character U+0378 (unassigned code point) at position 3 is not allowed"},
        {"noncharacter", "id\xef\xbf\xbf",
         "identifier: character U+FFFF (unassigned code point) at position 3 is not allowed"},
        {"language tag", "id\xf3\xa0\x80\x81",
         "identifier: character U+E0001 (format character) at position 3 is not allowed"},
        {"variation selector", "\xf0\x9f\x91\x8d\xef\xb8\x8f",
         "identifier: character U+FE0F (variation selector-16) at position 2 is not allowed"},
        {"combining grapheme joiner",
         "a\xcd\x8f"
         "b",
         "identifier: character U+034F (invisible character) at position 2 is not allowed"},
        // Positions count code points, not bytes.
        {"after multi-byte characters", "\xc3\xa9\xe7\x94\xa8\xc2\xa0",
         "identifier: character U+00A0 (no-break space) at position 3 is not allowed"},
        // The first refused character is the one reported.
        {"two refused characters",
         "a\xe2\x80\x8b"
         "b\xc2\xa0",
         "identifier: character U+200B (zero width space) at position 2 is not allowed"},
    };
    for (const auto& b : bad) {
        INFO(b.what);
        auto v = check(b.identifier);
        rejected(v, b.identifier, "identifier: character U+");
        CHECK(v.reason == b.reason);
        // Typed or not, the character rule comes first.
        CHECK(check(b.identifier, "id").reason == b.reason);
    }
}

TEST_CASE("validate: identifiers must be in NFC", "[intake][validate]") {
    // "e" + U+0301 COMBINING ACUTE ACCENT looks like U+00E9 but is other bytes.
    rejected(check("jose\xcc\x81"
                   "@example.com"),
             "jose\xcc\x81"
             "@example.com",
             "identifier is not in Unicode normalisation form C");
    rejected(check("e\xcc\x81", "id"), "e\xcc\x81",
             "identifier is not in Unicode normalisation form C");
    // U+212B ANGSTROM SIGN is a singleton that NFC replaces by U+00C5.
    rejected(check("\xe2\x84\xab"
                   "ngstrom"),
             "\xe2\x84\xab"
             "ngstrom",
             "identifier is not in Unicode normalisation form C");
    // Hangul written as conjoining jamo (U+1100 U+1161) composes to U+AC00.
    rejected(check("\xe1\x84\x80\xe1\x85\xa1"), "\xe1\x84\x80\xe1\x85\xa1",
             "identifier is not in Unicode normalisation form C");
}

TEST_CASE("validate: non-ASCII identifiers in NFC still pass", "[intake][validate]") {
    for (const char* good : {
             "jos\xc3\xa9@example.com",          // josé@example.com, é precomposed
             "\xe7\x94\xa8\xe6\x88\xb7-42",      // 用户-42
             "\xd9\x85\xd8\xad\xd9\x85\xd8\xaf", // محمد (right-to-left letters, no controls)
             "\xea\xb0\x80\xeb\x82\x98",         // 가나 (precomposed Hangul)
             "x\xcc\x81",                        // x + U+0301: no precomposed form, so NFC
             "\xf0\x9f\x98\x80-fan",             // an emoji without a variation selector
             "an id with ascii spaces",          // U+0020 stays allowed inside ids
             "J\xc3\xbcrgen \xe2\x82\xac",
         }) {
        INFO(good);
        auto v = check(good);
        REQUIRE(v.request);
        CHECK(v.request->identifier == good);
    }
}

TEST_CASE("validate: id_type is id, email or cio_id in any case", "[intake][validate]") {
    CHECK(check("abc", "id").request->id_type == IdType::id);
    CHECK(check("abc", "ID").request->id_type == IdType::id);
    CHECK(check("a@b.co", "EMAIL").request->id_type == IdType::email);
    CHECK(check("cio_a1", "Cio_Id").request->id_type == IdType::cio_id);
    rejected(check("abc", "e-mail"), "abc", "id_type must be id, email, cio_id or phone");
    rejected(check("abc", "uuid"), "abc", "id_type must be id, email, cio_id or phone");
    // A misplaced column must not leak into the reason either.
    auto swapped = check("12345", "someone@example.com");
    REQUIRE_FALSE(swapped.request);
    CHECK(swapped.reason.find("someone") == std::string::npos);
}

TEST_CASE("validate: phone is typed only, and E.164", "[intake][validate]") {
    CHECK(check("+4915112345678", "phone").request->id_type == IdType::phone);
    CHECK(check("+12", "Phone").request->identifier == "+12");
    CHECK(check("+123456789012345", "phone").request);
    // Never inferred: "+4915112345678" without a type is an id.
    CHECK(check("+4915112345678").request->id_type == IdType::id);
    rejected(check("4915112345678", "phone"), "4915112345678",
             "identifier is typed phone but is not an E.164 number: it does not start with \"+\"");
    rejected(check("+1234567890123456", "phone"), "+1234567890123456",
             "identifier is typed phone but is not an E.164 number: it has 16 digits (E.164: 2 "
             "to 15)");
    rejected(check("+49 151 123", "phone"), "+49 151 123",
             "identifier is typed phone but is not an E.164 number: it has a character other "
             "than a digit at position 4");
    rejected(check("+0123", "phone"), "+0123",
             "identifier is typed phone but is not an E.164 number: it has a country code "
             "starting with 0");
    rejected(check("+1", "phone"), "+1",
             "identifier is typed phone but is not an E.164 number: it has 1 digit (E.164: 2 "
             "to 15)");
}

TEST_CASE("validate: typed id accepts anything valid", "[intake][validate]") {
    CHECK(check("a@b", "id").request->id_type == IdType::id);
    CHECK(check("cio_not-really", "id").request->id_type == IdType::id);
    CHECK(check("cio_abc", "id").request->id_type == IdType::id);
    CHECK(check("@@@", "id").request);
}

TEST_CASE("validate: e-mail form, typed or inferred", "[intake][validate]") {
    for (const char* good :
         {"a@b.co", "first.last+tag@mail.example.org", "x@sub.domain.io", "\xc3\xbc@example.de"}) {
        INFO(good);
        auto typed = check(good, "email");
        REQUIRE(typed.request);
        auto inferred = check(good);
        REQUIRE(inferred.request);
        CHECK(inferred.request->id_type == IdType::email);
    }
    std::string local64 = std::string(64, 'l') + "@example.com";
    std::string local65 = std::string(65, 'l') + "@example.com";
    CHECK(check(local64).request);

    struct Bad {
        std::string address;
        const char* why;
    };
    const Bad bad[] = {
        {"a@b@example.com", "has more than one '@'"},
        {"ann smith@example.com", "contains a space"},
        {"@example.com", "has nothing before the '@'"},
        {local65, "has more than 64 bytes before the '@'"},
        {"ann@", "has nothing after the '@'"},
        {"ann@.example.com", "has a domain that starts or ends with a dot"},
        {"ann@example.com.", "has a domain that starts or ends with a dot"},
        {"ann@localhost", "has a domain without a dot"},
        {"ann@example..com", "has two dots in a row"},
        {"ann..lee@example.com", "has two dots in a row"},
    };
    for (const auto& b : bad) {
        INFO(b.address);
        auto typed = check(b.address, "email");
        rejected(typed, b.address, "identifier is typed email but is not an e-mail address");
        CHECK_THAT(typed.reason, Catch::Contains(b.why));
        auto inferred = check(b.address);
        rejected(inferred, b.address, "identifier contains '@' so it is read as an e-mail address");
        CHECK_THAT(inferred.reason, Catch::Contains(b.why));
        CHECK_THAT(inferred.reason, Catch::Contains("set id_type to id"));
    }
    auto no_at = check("ann.example.com", "email");
    rejected(no_at, "ann.example.com", "identifier is typed email");
    CHECK_THAT(no_at.reason, Catch::Contains("has no '@'"));
}

TEST_CASE("validate: cio_id form, typed or inferred", "[intake][validate]") {
    for (const char* good : {"cio_a", "cio_03000001a1b2c3", "cio_ABCxyz09"}) {
        INFO(good);
        CHECK(check(good, "cio_id").request->id_type == IdType::cio_id);
        CHECK(check(good).request->id_type == IdType::cio_id);
    }
    struct Bad {
        const char* identifier;
        const char* why;
    };
    for (const Bad& b : {Bad{"cio_", "has nothing after \"cio_\""},
                         Bad{"cio_abc-def", "has characters other than letters and digits"},
                         Bad{"cio_abc def", "has characters other than letters and digits"},
                         Bad{"cio_\xc3\xbc", "has characters other than letters and digits"}}) {
        INFO(b.identifier);
        auto typed = check(b.identifier, "cio_id");
        rejected(typed, b.identifier, "identifier is typed cio_id but it");
        CHECK_THAT(typed.reason, Catch::Contains(b.why));
        auto inferred = check(b.identifier);
        rejected(inferred, b.identifier,
                 "identifier starts with \"cio_\" so it is read as a cio_id");
        CHECK_THAT(inferred.reason, Catch::Contains(b.why));
    }
    auto no_prefix = check("abc123", "cio_id");
    rejected(no_prefix, "abc123", "identifier is typed cio_id but it does not start with \"cio_\"");
    auto upper = check("CIO_abc", "cio_id");
    REQUIRE_FALSE(upper.request);
}

TEST_CASE("validate: request_id rules", "[intake][validate]") {
    CHECK(check("abc", "", std::string(200, 'r')).request->request_id.size() == 200);
    rejected(check("abc", "", std::string(201, 'r')), "abc",
             "request_id is 201 bytes long; at most 200");
    rejected(check("abc", "", "r\xff"), "abc", "request_id is not valid UTF-8");
    rejected(check("abc", "", "r\x1b[31m"), "abc",
             "request_id: character U+001B (control character) at position 2 is not allowed");
    CHECK(check("abc", "", "  \t").request->request_id.empty());
    CHECK(check("abc", "", "Ticket #5 (\xc3\xa9)").request->request_id == "Ticket #5 (\xc3\xa9)");
    CHECK(check("abc", "", "\xe5\xb7\xa5\xe5\x8d\x95-7").request->request_id ==
          "\xe5\xb7\xa5\xe5\x8d\x95-7"); // 工单-7
    // The identifier's character and NFC rules apply to request_id too.
    rejected(check("abc", "", "ZD-1\xc2\xa0"), "abc",
             "request_id: character U+00A0 (no-break space) at position 5 is not allowed");
    rejected(check("abc", "", "  ZD\xe2\x80\x8b-1"), "abc",
             "request_id: character U+200B (zero width space) at position 5 is not allowed");
    rejected(check("abc", "",
                   "ZD-\xe2\x80\xae"
                   "1"),
             "abc",
             "request_id: character U+202E (right-to-left override) at position 4 is not allowed");
    rejected(check("abc", "",
                   "\xef\xbb\xbf"
                   "ZD-1"),
             "abc", "request_id: character U+FEFF (byte order mark) at position 1 is not allowed");
    rejected(check("abc", "", "ZD-\xee\x80\x80"), "abc",
             "request_id: character U+E000 (private-use character) at position 4 is not allowed");
    rejected(check("abc", "", "Ticket e\xcc\x81"), "abc",
             "request_id is not in Unicode normalisation form C");
}

TEST_CASE("validate: received_at rules", "[intake][validate]") {
    CHECK(check("abc", "", "", "2024-05-01").request->received_at == parse_iso8601("2024-05-01"));
    CHECK(check("abc", "", "", "2000-01-01T00:00:00Z").request);
    rejected(check("abc", "", "", "1999-12-31T23:59:59Z"), "abc",
             "received_at 1999-12-31T23:59:59Z is before 2000-01-01");
    rejected(check("abc", "", "", "yesterday"), "abc", "received_at is not an ISO 8601");
    rejected(check("abc", "", "", "2024-02-30"), "abc", "received_at is not an ISO 8601");

    // Up to five minutes ahead is clock skew, not the future.
    CHECK(check("abc", "", "", "2024-06-01T12:05:00Z").request);
    CHECK(check("abc", "", "", "2024-06-01T14:04:00+02:00").request);
    rejected(check("abc", "", "", "2024-06-01T12:05:01Z"), "abc",
             "received_at 2024-06-01T12:05:01Z is in the future");
    rejected(check("abc", "", "", "2025-01-01"), "abc", "received_at 2025-01-01T00:00:00Z is in");

    // A misplaced column must not leak into the reason.
    auto swapped = check("12345", "", "", "someone@example.com");
    REQUIRE_FALSE(swapped.request);
    CHECK(swapped.reason.find("someone") == std::string::npos);
}

TEST_CASE("validate: reasons never contain the identifier", "[intake][validate]") {
    const char* identifiers[] = {
        "secret.person@example..com",        "secret.person@nodot",      "cio_secret-person",
        "secret person@example.com",         "secret\x01person",         "secretperson",
        "secret.person@example.com\xc2\xa0", "secret\xe2\x80\x8bperson", "secret\xe2\x80\xaeperson",
        "secret\xe2\x80\xa8person",          "secret\xef\xbb\xbfperson", "secret\xc2\xadperson",
        "secret\xee\x80\x80person",          "secret\xcd\xb8person",     "secrete\xcc\x81person",
    };
    for (const char* id : identifiers) {
        for (const char* type : {"", "id", "email", "cio_id", "bogus"}) {
            for (const char* received : {"", "2099-01-01", "not a date"}) {
                INFO(id << " / " << type << " / " << received);
                auto v = check(id, type, "REQ-1", received);
                if (!v.request) {
                    CHECK(v.reason.find("secret") == std::string::npos);
                    CHECK(v.reason.find("person") == std::string::npos);
                }
            }
        }
    }
}
