// libFuzzer target for the HTTP intake's request parsing: feeds arbitrary bytes to
// parse_request_body and, as the body and as header values, to check_signature. Checks that a
// body is either accepted or refused with a reason that echoes no input, that an accepted body
// re-encoded as JSON parses back to the same request, that the shared validation runs on it
// without breaking its own rules, and that no signature made with another secret is accepted.

#include "fuzz_check.hpp"
#include "serve/request_body.hpp"
#include "serve/signature.hpp"
#include "util/strings.hpp"

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

using namespace lethe;
using lethe::fuzz::is_message_text;

namespace {

// 2026-11-22T12:00:00Z.
constexpr TimeMs k_now = 1795348800000;
const std::string k_secret = "fuzz-intake-secret";

void check_body(const std::string& body) {
    serve::BodyParse parsed = serve::parse_request_body(body);
    FUZZ_CHECK(parsed.request.has_value() == parsed.reason.empty());
    if (!parsed.request) {
        FUZZ_CHECK(is_message_text(parsed.reason));
        return;
    }
    const intake::RawRequest& r = *parsed.request;
    FUZZ_CHECK(!trim(r.request_id).empty());
    for (const std::string* field : {&r.request_id, &r.identifier, &r.id_type, &r.received_at}) {
        FUZZ_CHECK(is_valid_utf8(*field)); // the JSON parser refuses anything else
    }

    // Round trip through an independent encoder.
    nlohmann::json again = {{"request_id", r.request_id}, {"identifier", r.identifier}};
    if (!r.id_type.empty()) {
        again["id_type"] = r.id_type;
    }
    if (!r.received_at.empty()) {
        again["received_at"] = r.received_at;
    }
    serve::BodyParse reparsed = serve::parse_request_body(again.dump());
    FUZZ_CHECK(reparsed.request.has_value());
    FUZZ_CHECK(reparsed.request->request_id == r.request_id);
    FUZZ_CHECK(reparsed.request->identifier == r.identifier);
    FUZZ_CHECK(reparsed.request->id_type == r.id_type);
    FUZZ_CHECK(reparsed.request->received_at == r.received_at);

    intake::Validation v = intake::validate_request(r, k_now);
    FUZZ_CHECK(v.request.has_value() != !v.reason.empty());
    if (!v.request) {
        FUZZ_CHECK(is_message_text(v.reason));
    }
}

void check_signatures(const std::string& data) {
    // The input as the body, signed correctly: accepted, and refused under another secret.
    const std::string ts = std::to_string(k_now / 1000);
    const std::string good = serve::sign_request(k_secret, ts, data);
    FUZZ_CHECK(!serve::check_signature({k_secret}, {ts, good}, data, k_now));
    FUZZ_CHECK(serve::check_signature({"other"}, {ts, good}, data, k_now).has_value());

    // The input split into a timestamp and a signature header: never accepted unless it really
    // is the signature of an empty body, and the reason never echoes the headers.
    const std::size_t cut = data.size() / 2;
    const std::string_view t(data.data(), cut);
    const std::string_view s(data.data() + cut, data.size() - cut);
    auto reason = serve::check_signature({k_secret}, {t, s}, "", k_now);
    if (!reason) {
        FUZZ_CHECK(to_lower(s) == serve::sign_request(k_secret, t, ""));
    } else {
        FUZZ_CHECK(is_message_text(*reason));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    check_body(input);
    check_signatures(input);
    return 0;
}
