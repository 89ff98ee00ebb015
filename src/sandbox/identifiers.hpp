#pragma once

#include <optional>
#include <string>
#include <string_view>

// Customer.io's identifier rules as the sandbox enforces them (docs/sandbox.md, "Identifier
// rules"; ../shared/DESIGN.md, "Customer.io facts").
namespace lethe::sandbox {

// The kinds of identifier a person can have.
enum class IdKind { id, email, phone, cio_id };

// How a workspace identifies people (its "identify by" setting).
enum class IdentifyBy {
    email_or_id, // an e-mail-shaped path value is an e-mail; e-mails are unique
    id,          // every non-cio_ path value is an id; several profiles may share an e-mail
};

// The identifier settings of one workspace.
struct IdentifierRules {
    IdentifyBy identify_by = IdentifyBy::email_or_id;
    bool phone_identifier = false; // phone numbers are identifiers (unique) in this workspace
};

// A value together with the kind it is read as. For cio_id the value is the bare cio_id,
// without the "cio_" prefix a v1 path carries.
struct TypedId {
    IdKind kind = IdKind::id;
    std::string value;
};

// "id", "email", "phone", "cio_id".
const char* kind_name(IdKind kind);

// The kind named by `name` (as above); nullopt for anything else.
std::optional<IdKind> parse_kind(std::string_view name);

// "email_or_id" or "id".
const char* identify_by_name(IdentifyBy identify_by);

// The setting named by `name`; nullopt for anything else.
std::optional<IdentifyBy> parse_identify_by(std::string_view name);

// True when `value` is shaped like an e-mail address: no whitespace or control characters, one
// '@' with something before it, and after it a domain holding a '.' that is neither its first
// nor its last character.
bool looks_like_email(std::string_view value);

// True when `value` is an E.164 phone number: '+', a digit 1-9, then 1 to 14 digits.
bool is_e164(std::string_view value);

// How Customer.io reads a v1 path value (/api/v1/customers/{value}): a "cio_" prefix makes a
// cio_id; in an email_or_id workspace an e-mail-shaped value is an e-mail; anything else is an
// id. Phone numbers are never read from a path: "+14155550100" is an id.
TypedId read_path_value(std::string_view value, const IdentifierRules& rules);

// True when `kind` identifies people in a workspace with `rules` (id and cio_id always, e-mail
// only in email_or_id workspaces, phone only where phone_identifier is set).
bool is_identifier(IdKind kind, const IdentifierRules& rules);

// The form two values of `kind` are compared in: e-mails in ASCII lower case (they match
// case-insensitively), everything else exactly as given.
std::string match_form(IdKind kind, std::string_view value);

} // namespace lethe::sandbox
