#include "intake/validate.hpp"

#include "util/strings.hpp"
#include "util/time.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <utf8proc.h>

// Reasons never quote a field's value: the identifier is personal data, and a misplaced column
// can put personal data in any other field too. Only a parsed date is echoed back, because a
// value that parses as a date cannot be a person's e-mail or id. The first failed rule is the
// one reported.

namespace lethe::intake {
namespace {

// Why `s` is not an acceptable e-mail address, as a phrase following "it"; empty when it is.
std::string email_problem(std::string_view s) {
    std::size_t at = s.find('@');
    if (at == std::string_view::npos) {
        return "has no '@'";
    }
    if (s.find('@', at + 1) != std::string_view::npos) {
        return "has more than one '@'";
    }
    if (s.find(' ') != std::string_view::npos) {
        return "contains a space";
    }
    std::string_view local = s.substr(0, at);
    std::string_view domain = s.substr(at + 1);
    if (local.empty()) {
        return "has nothing before the '@'";
    }
    if (local.size() > k_max_email_local_bytes) {
        return "has more than " + std::to_string(k_max_email_local_bytes) + " bytes before the '@'";
    }
    if (domain.empty()) {
        return "has nothing after the '@'";
    }
    if (domain.front() == '.' || domain.back() == '.') {
        return "has a domain that starts or ends with a dot";
    }
    if (domain.find('.') == std::string_view::npos) {
        return "has a domain without a dot";
    }
    if (s.find("..") != std::string_view::npos) {
        return "has two dots in a row";
    }
    return {};
}

bool is_ascii_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

constexpr std::string_view k_cio_prefix = "cio_";

// Why `s` is not an acceptable cio_id, as a phrase following "it"; empty when it is.
// E.164 (ITU-T): "+", a country code that does not start with 0, at most 15 digits in all.
// Customer.io takes phone identifiers in this form only, so anything else could never match.
std::string phone_problem(std::string_view s) {
    if (s.empty() || s.front() != '+') {
        return "does not start with \"+\"";
    }
    const std::string_view digits = s.substr(1);
    if (digits.size() < 2 || digits.size() > 15) {
        return "has " + std::to_string(digits.size()) +
               (digits.size() == 1 ? " digit" : " digits") + " (E.164: 2 to 15)";
    }
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (digits[i] < '0' || digits[i] > '9') {
            return "has a character other than a digit at position " + std::to_string(i + 2);
        }
    }
    if (digits.front() == '0') {
        return "has a country code starting with 0";
    }
    return {};
}

std::string cio_id_problem(std::string_view s) {
    if (s.substr(0, k_cio_prefix.size()) != k_cio_prefix) {
        return "does not start with \"cio_\"";
    }
    std::string_view rest = s.substr(k_cio_prefix.size());
    if (rest.empty()) {
        return "has nothing after \"cio_\"";
    }
    for (char c : rest) {
        if (!is_ascii_alnum(c)) {
            return "has characters other than letters and digits after \"cio_\"";
        }
    }
    return {};
}

Validation reject(std::string reason) {
    Validation v;
    v.reason = std::move(reason);
    return v;
}

// Names for the refused characters people actually meet (pasted from Word, a web form or a
// spreadsheet). Only names: which characters are refused comes from utf8proc's categories.
struct CharName {
    char32_t code_point;
    std::string_view name;
};
constexpr CharName k_char_names[] = {
    {0x0009, "tab"},
    {0x000A, "line feed"},
    {0x000D, "carriage return"},
    {0x0085, "next line"},
    {0x00A0, "no-break space"},
    {0x00AD, "soft hyphen"},
    {0x061C, "arabic letter mark"},
    {0x1680, "ogham space mark"},
    {0x180E, "mongolian vowel separator"},
    {0x2000, "en quad"},
    {0x2001, "em quad"},
    {0x2002, "en space"},
    {0x2003, "em space"},
    {0x2004, "three-per-em space"},
    {0x2005, "four-per-em space"},
    {0x2006, "six-per-em space"},
    {0x2007, "figure space"},
    {0x2008, "punctuation space"},
    {0x2009, "thin space"},
    {0x200A, "hair space"},
    {0x200B, "zero width space"},
    {0x200C, "zero width non-joiner"},
    {0x200D, "zero width joiner"},
    {0x200E, "left-to-right mark"},
    {0x200F, "right-to-left mark"},
    {0x2028, "line separator"},
    {0x2029, "paragraph separator"},
    {0x202A, "left-to-right embedding"},
    {0x202B, "right-to-left embedding"},
    {0x202C, "pop directional formatting"},
    {0x202D, "left-to-right override"},
    {0x202E, "right-to-left override"},
    {0x202F, "narrow no-break space"},
    {0x205F, "medium mathematical space"},
    {0x2060, "word joiner"},
    {0x2066, "left-to-right isolate"},
    {0x2067, "right-to-left isolate"},
    {0x2068, "first strong isolate"},
    {0x2069, "pop directional isolate"},
    {0x3000, "ideographic space"},
    {0x3164, "hangul filler"},
    {0xFE0F, "variation selector-16"},
    {0xFEFF, "byte order mark"},
};

// Why `cp` may not appear in an identifier or request id, as a short noun phrase (its name when
// it has one in k_char_names); empty when it may. ASCII space stays allowed inside ids, as it
// always was (e-mail addresses refuse it in their own rule). Everything invisible or
// ambiguous is refused: two strings that look the same must be the same bytes, because
// Customer.io compares bytes.
std::string char_problem(utf8proc_int32_t cp) {
    std::string_view kind;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_CC:
        kind = "control character";
        break;
    case UTF8PROC_CATEGORY_CF:
        kind = "format character";
        break;
    case UTF8PROC_CATEGORY_ZS:
        if (cp != ' ') {
            kind = "space character";
        }
        break;
    case UTF8PROC_CATEGORY_ZL:
        kind = "line separator";
        break;
    case UTF8PROC_CATEGORY_ZP:
        kind = "paragraph separator";
        break;
    case UTF8PROC_CATEGORY_CO:
        kind = "private-use character";
        break;
    case UTF8PROC_CATEGORY_CS: // not reachable from valid UTF-8; refused all the same
        kind = "surrogate";
        break;
    case UTF8PROC_CATEGORY_CN:
        kind = "unassigned code point";
        break;
    default:
        // Default_Ignorable_Code_Point outside Cf (variation selectors, the combining grapheme
        // joiner, Hangul fillers): drawn as nothing, so just as invisible.
        if (utf8proc_get_property(cp)->ignorable) {
            kind = "invisible character";
        }
        break;
    }
    if (kind.empty()) {
        return {};
    }
    for (const CharName& n : k_char_names) {
        if (n.code_point == static_cast<char32_t>(cp)) {
            return std::string(n.name);
        }
    }
    return std::string(kind);
}

// "U+00A0": the code point in the form Unicode charts use (at least four hex digits).
std::string code_point_text(utf8proc_int32_t cp) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
    return buf;
}

struct FreeDeleter {
    void operator()(utf8proc_uint8_t* p) const { std::free(p); }
};

// True when the valid UTF-8 `s` (without NUL) is in Unicode normalisation form C.
bool is_nfc(std::string_view s) {
    const std::string copy(s); // utf8proc_NFC reads a NUL-terminated string
    std::unique_ptr<utf8proc_uint8_t, FreeDeleter> nfc(
        utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(copy.c_str())));
    if (!nfc) {
        // The input is valid UTF-8, so the only failure left is memory.
        throw std::bad_alloc();
    }
    return copy == reinterpret_cast<const char*>(nfc.get());
}

// Shared checks for free-text fields; `name` is the field's name for the message and `offset` the
// number of characters trimmed from the front of the field, so that positions count from the
// start of the field as written.
std::string text_problem(std::string_view name, std::string_view value, std::size_t max_bytes,
                         std::size_t offset) {
    if (value.size() > max_bytes) {
        return std::string(name) + " is " + std::to_string(value.size()) + " bytes long; at most " +
               std::to_string(max_bytes) + " are allowed";
    }
    if (!is_valid_utf8(value)) {
        return std::string(name) + " is not valid UTF-8";
    }
    const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(value.data());
    const auto size = static_cast<utf8proc_ssize_t>(value.size());
    std::size_t position = offset;
    for (utf8proc_ssize_t i = 0; i < size;) {
        utf8proc_int32_t cp = 0;
        utf8proc_ssize_t n = utf8proc_iterate(bytes + i, size - i, &cp);
        if (n <= 0) { // is_valid_utf8 and utf8proc disagree: refuse rather than guess
            return std::string(name) + " is not valid UTF-8";
        }
        ++position;
        if (std::string why = char_problem(cp); !why.empty()) {
            return std::string(name) + ": character " + code_point_text(cp) + " (" + why +
                   ") at position " + std::to_string(position) + " is not allowed";
        }
        i += n;
    }
    if (!is_nfc(value)) {
        return std::string(name) + " is not in Unicode normalisation form C";
    }
    return {};
}

// How many characters (all ASCII spaces and tabs) trim() removes from the front of `s`.
std::size_t leading_blanks(std::string_view s) {
    std::size_t n = s.find_first_not_of(" \t");
    return n == std::string_view::npos ? s.size() : n;
}

} // namespace

std::string_view to_string(IdType t) {
    switch (t) {
    case IdType::id:
        return "id";
    case IdType::email:
        return "email";
    case IdType::cio_id:
        return "cio_id";
    case IdType::phone:
        return "phone";
    }
    return "id";
}

std::optional<IdType> parse_id_type(std::string_view s) {
    if (s == "id") {
        return IdType::id;
    }
    if (s == "email") {
        return IdType::email;
    }
    if (s == "cio_id") {
        return IdType::cio_id;
    }
    if (s == "phone") {
        return IdType::phone;
    }
    return std::nullopt;
}

IdType infer_id_type(std::string_view identifier) {
    if (identifier.substr(0, k_cio_prefix.size()) == k_cio_prefix) {
        return IdType::cio_id;
    }
    if (identifier.find('@') != std::string_view::npos) {
        return IdType::email;
    }
    return IdType::id;
}

Validation validate_request(const RawRequest& raw, TimeMs now) {
    ValidRequest out;

    std::string_view identifier = trim(raw.identifier);
    if (identifier.empty()) {
        return reject("identifier is missing or empty");
    }
    if (std::string p = text_problem("identifier", identifier, k_max_identifier_bytes,
                                     leading_blanks(raw.identifier));
        !p.empty()) {
        return reject(std::move(p));
    }
    out.identifier = identifier;

    std::string_view type_text = trim(raw.id_type);
    const bool typed = !type_text.empty();
    if (typed) {
        std::optional<IdType> t = parse_id_type(to_lower(type_text));
        if (!t) {
            return reject("id_type must be id, email, cio_id or phone");
        }
        out.id_type = *t;
    } else {
        out.id_type = infer_id_type(identifier);
    }

    if (out.id_type == IdType::email) {
        if (std::string p = email_problem(identifier); !p.empty()) {
            if (typed) {
                return reject("identifier is typed email but is not an e-mail address: it " + p);
            }
            return reject("identifier contains '@' so it is read as an e-mail address, but it " +
                          p + "; set id_type to id if it is a plain id");
        }
    } else if (out.id_type == IdType::phone) {
        if (std::string p = phone_problem(identifier); !p.empty()) {
            return reject("identifier is typed phone but is not an E.164 number: it " + p);
        }
    } else if (out.id_type == IdType::cio_id) {
        if (std::string p = cio_id_problem(identifier); !p.empty()) {
            if (typed) {
                return reject("identifier is typed cio_id but it " + p);
            }
            return reject("identifier starts with \"cio_\" so it is read as a cio_id, but it " + p +
                          "; set id_type to id if it is a plain id");
        }
    }

    std::string_view request_id = trim(raw.request_id);
    if (!request_id.empty()) {
        if (std::string p = text_problem("request_id", request_id, k_max_request_id_bytes,
                                         leading_blanks(raw.request_id));
            !p.empty()) {
            return reject(std::move(p));
        }
        out.request_id = request_id;
    }

    std::string_view received_at = trim(raw.received_at);
    if (!received_at.empty()) {
        std::optional<TimeMs> t = parse_iso8601(received_at);
        if (!t) {
            // Second 60 is valid ISO 8601 only as a leap second; say so rather than "not ISO".
            const bool second_60 = received_at.size() >= 19 && received_at.substr(16, 3) == ":60";
            return reject(second_60
                              ? std::string("received_at has second 60, which is a leap second "
                                            "only at 23:59:60 UTC (the last second of a day)")
                              : std::string("received_at is not an ISO 8601 date or time (for "
                                            "example 2024-05-01 or 2024-05-01T09:30:00Z)"));
        }
        if (*t < k_earliest_received_at_ms) {
            return reject("received_at " + format_iso8601(*t) + " is before 2000-01-01");
        }
        if (*t > now + k_clock_skew_tolerance_ms) {
            return reject("received_at " + format_iso8601(*t) + " is in the future");
        }
        out.received_at = t;
    }

    Validation v;
    v.request = std::move(out);
    return v;
}

} // namespace lethe::intake
