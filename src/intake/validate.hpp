#pragma once

#include "util/clock.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace lethe::intake {

// What kind of Customer.io identifier a request names.
// phone: an E.164 number ("+" and 2 to 15 digits); never inferred, only when typed.
enum class IdType { id, email, cio_id, phone };

// Longest identifier Customer.io accepts, in bytes.
inline constexpr std::size_t k_max_identifier_bytes = 150;
// Longest local part (before '@') of an e-mail address, in bytes (RFC 5321).
inline constexpr std::size_t k_max_email_local_bytes = 64;
// Longest caller-supplied request id, in bytes.
inline constexpr std::size_t k_max_request_id_bytes = 200;
// How far in the future a received_at may lie before it is rejected: the clocks of the ticket
// system and of this machine may disagree by a few minutes.
inline constexpr TimeMs k_clock_skew_tolerance_ms = 5 * 60 * 1000;
// Earliest accepted received_at, 2000-01-01T00:00:00Z: anything older is a typo, not a request.
inline constexpr TimeMs k_earliest_received_at_ms = 946684800000;

// The name of `t`: "id", "email" or "cio_id".
std::string_view to_string(IdType t);

// The IdType named exactly (lower case) by `s`; nullopt for any other text.
std::optional<IdType> parse_id_type(std::string_view s);

// The type an untyped identifier is read as: "cio_" prefix → cio_id, contains '@' → email,
// otherwise id. Never fails.
IdType infer_id_type(std::string_view identifier);

// A request as given by its source, before any checking; an empty string means "absent".
struct RawRequest {
    std::string identifier;
    std::string id_type;
    std::string request_id;
    std::string received_at;
    std::string workspaces; // names separated by commas or spaces; absent: every workspace
};

// A request that passed validate_request: trimmed, typed and parsed.
struct ValidRequest {
    std::string identifier;
    IdType id_type = IdType::id;
    std::string request_id;            // empty when not given
    std::optional<TimeMs> received_at; // nullopt when not given (the caller uses "now")
};

// The outcome of validate_request: exactly one of `request` and `reason` is set.
struct Validation {
    std::optional<ValidRequest> request;
    std::string reason; // why the request was rejected; never contains the identifier
};

// The rules, checked in this order (the first failure is reported):
//   identifier  trimmed of ASCII spaces/tabs (only those); non-empty; at most 150 bytes; valid
//               UTF-8; every character allowed (see "characters" below); in Unicode
//               normalisation form C (NFC), because Customer.io compares bytes and "e" + U+0301
//               (combining acute) is not U+00E9, though both show as an e with an acute.
//   characters  refused, by utf8proc's Unicode 15 categories: control characters (Cc: ASCII,
//               DEL, C1, tab, line breaks), format characters (Cf: soft hyphen, ZWSP, ZWNJ,
//               ZWJ, word joiner, byte order mark anywhere, LRM/RLM/ALM and the bidi
//               embeddings, overrides and isolates U+202A-U+202E, U+2066-U+2069), every space
//               separator (Zs) except the ASCII space (so U+00A0, U+2007, U+3000...), line and
//               paragraph separators (Zl U+2028, Zp U+2029), private use (Co), surrogates (Cs)
//               and unassigned code points and noncharacters (Cn), and any other
//               Default_Ignorable_Code_Point (variation selectors, the combining grapheme joiner,
//               Hangul fillers). The reason names the character and its position:
//               "identifier: character U+00A0 (no-break space) at position 15 is not allowed",
//               the position being the 1-based index of the code point in the field as written
//               (leading spaces and tabs counted).
//   id_type     trimmed; case-insensitive ("Email" is email); id, email, cio_id or phone. When
//   absent
//               the type is inferred with infer_id_type.
//   email form  (typed or inferred) exactly one '@'; no spaces; 1..64 bytes before the '@'; a
//               domain after it that contains a dot and neither starts nor ends with one; no two
//               dots in a row anywhere.
//   cio_id form (typed or inferred) "cio_" then one or more ASCII letters or digits, nothing else.
//   id form     anything that passed the identifier rules.
//   request_id  trimmed; at most 200 bytes; valid UTF-8; the same characters as the identifier;
//               NFC (it is the idempotency key: two ids that look alike must be the same bytes).
//   received_at trimmed; parse_iso8601 (offsets +HH:MM, +HHMM or +HH; a leap second 23:59:60 UTC
//   read as 23:59:59.999Z); not before 2000-01-01; not after now + 5 minutes.
//
// Checks and normalises `raw` against the rules above, `now` bounding received_at. Returns the
// request, or a reason for users that never quotes the identifier (or any field but a date).
Validation validate_request(const RawRequest& raw, TimeMs now);

} // namespace lethe::intake
