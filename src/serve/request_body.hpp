#pragma once

#include "intake/validate.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace lethe::serve {

// The outcome of parse_request_body: exactly one of `request` and `reason` is set.
struct BodyParse {
    std::optional<intake::RawRequest> request;
    std::string reason; // why the body was refused; never contains a field's value
};

// Reads the body of POST /v1/erasure-requests: one JSON object whose members are strings,
//   request_id   required (the idempotency key: a sender's retry must not add a second request)
//   identifier   required
//   id_type      optional; null means absent
//   received_at  optional; null means absent
// Anything else is refused: another JSON value at the top, a member of another type, an unknown
// or repeated member (a typo such as "recieved_at" must not silently start the clock now), or
// text that is not JSON (invalid UTF-8 included). The fields are not validated here: the caller
// admits the request through the same validation as CSV import (intake::Admission).
BodyParse parse_request_body(std::string_view body);

} // namespace lethe::serve
