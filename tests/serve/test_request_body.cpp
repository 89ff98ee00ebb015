#include "serve/request_body.hpp"

#include <catch2/catch.hpp>

using namespace lethe;
using lethe::serve::parse_request_body;

namespace {

// The reason `body` is refused, or "(accepted)".
std::string reason_of(const std::string& body) {
    auto parsed = parse_request_body(body);
    if (parsed.request) {
        CHECK(parsed.reason.empty());
        return "(accepted)";
    }
    return parsed.reason;
}

} // namespace

TEST_CASE("a body with every field, and one with the required ones only", "[serve][body]") {
    auto full = parse_request_body(R"({"request_id": "DSR-1", "identifier": "jane@example.com",
        "id_type": "email", "received_at": "2026-11-20T09:30:00Z"})");
    REQUIRE(full.request);
    CHECK(full.request->request_id == "DSR-1");
    CHECK(full.request->identifier == "jane@example.com");
    CHECK(full.request->id_type == "email");
    CHECK(full.request->received_at == "2026-11-20T09:30:00Z");

    auto minimal = parse_request_body(R"({"identifier":"42","request_id":"T-9"})");
    REQUIRE(minimal.request);
    CHECK(minimal.request->identifier == "42");
    CHECK(minimal.request->id_type.empty());
    CHECK(minimal.request->received_at.empty());

    auto nulls = parse_request_body(
        R"({"identifier":"42","request_id":"T-9","id_type":null,"received_at":null})");
    REQUIRE(nulls.request);
    CHECK(nulls.request->id_type.empty());

    // JSON escapes are decoded; the validation that follows sees the real characters.
    auto escaped = parse_request_body(R"({"identifier":"j\u00e4ne\n","request_id":"T\"1"})");
    REQUIRE(escaped.request);
    CHECK(escaped.request->identifier == "j\xc3\xa4ne\n");
    CHECK(escaped.request->request_id == "T\"1");
}

TEST_CASE("every kind of bad body has its reason", "[serve][body]") {
    CHECK(reason_of("") == "body is empty; expected a JSON object");
    CHECK(reason_of("  ") == "body is empty; expected a JSON object");
    CHECK(reason_of("{") == "body is not valid JSON (error at byte 2)");
    CHECK(
        reason_of(R"({"identifier":"a","request_id":"b"} x)").rfind("body is not valid JSON", 0) ==
        0);
    CHECK(reason_of(R"({"identifier":"a","request_id":"b",})").rfind("body is not valid JSON", 0) ==
          0);
    CHECK(reason_of("[]") == "body must be a JSON object");
    CHECK(reason_of("\"text\"") == "body must be a JSON object");
    CHECK(reason_of("42") == "body must be a JSON object");
    CHECK(reason_of("null") == "body must be a JSON object");
    CHECK(reason_of(R"({"identifier":"a"})") ==
          "request_id is missing or empty (it is the idempotency key)");
    CHECK(reason_of(R"({"identifier":"a","request_id":"  "})") ==
          "request_id is missing or empty (it is the idempotency key)");
    CHECK(reason_of(R"({"identifier":"a","request_id":null})") ==
          "request_id is missing or empty (it is the idempotency key)");
    // A missing identifier is left to the shared validation ("identifier is missing or empty").
    CHECK(reason_of(R"({"request_id":"b"})") == "(accepted)");
}

TEST_CASE("members of the wrong type are refused by name", "[serve][body]") {
    CHECK(reason_of(R"({"request_id":"b","identifier":42})") ==
          "field 'identifier' must be a string");
    CHECK(reason_of(R"({"request_id":7,"identifier":"a"})") ==
          "field 'request_id' must be a string");
    CHECK(reason_of(R"({"request_id":"b","identifier":"a","id_type":true})") ==
          "field 'id_type' must be a string");
    CHECK(reason_of(R"({"request_id":"b","identifier":"a","received_at":1700000000})") ==
          "field 'received_at' must be a string");
    CHECK(
        reason_of(R"({"request_id":"b","identifier":1e999})").rfind("body is not valid JSON", 0) ==
        0);
    CHECK(reason_of(R"({"request_id":"b","identifier":123456789012345678901234567890})") ==
          "field 'identifier' must be a string");
    CHECK(reason_of(R"({"request_id":"b","identifier":["a"]})") ==
          "field 'identifier' must be a string");
    CHECK(reason_of(R"({"request_id":"b","identifier":{"email":"a"}})") ==
          "field 'identifier' must be a string");
    CHECK(reason_of(R"({"request_id":"b","identifier":null})") == "(accepted)");
}

TEST_CASE("unknown and repeated members are refused", "[serve][body]") {
    CHECK(reason_of(R"({"request_id":"b","identifier":"a","recieved_at":"2026-01-01"})") ==
          "unknown field 'recieved_at' (accepted: request_id, identifier, id_type, received_at, "
          "workspaces)");
    CHECK(reason_of(R"({"request_id":"b","identifier":"a","Identifier":"c"})") ==
          "unknown field 'Identifier' (accepted: request_id, identifier, id_type, received_at, "
          "workspaces)");
    CHECK(reason_of(R"({"request_id":"b","identifier":"a","identifier":"c"})") ==
          "field 'identifier' appears twice");
    // A member name that could be data is not repeated back.
    auto reason = reason_of(R"({"request_id":"b","jane@example.com":"a"})");
    CHECK(reason ==
          "unknown field (accepted: request_id, identifier, id_type, received_at, workspaces)");
    CHECK(reason.find("jane") == std::string::npos);
}

TEST_CASE("invalid UTF-8 and deep nesting stop the parse without echoing input", "[serve][body]") {
    auto reason = reason_of("{\"request_id\":\"b\",\"identifier\":\"jane\xff@example.com\"}");
    CHECK(reason.rfind("body is not valid JSON", 0) == 0);
    CHECK(reason.find("jane") == std::string::npos);
    std::string deep(100'000, '[');
    CHECK(reason_of(deep) == "body must be a JSON object");
    std::string deep_member = R"({"request_id":"b","identifier":)" + std::string(100'000, '{');
    CHECK(reason_of(deep_member) == "field 'identifier' must be a string");
    // nlohmann's own message would quote the last token; ours does not.
    reason = reason_of(R"({"request_id":"b","identifier":"jane@example.com)");
    CHECK(reason.find("jane") == std::string::npos);
}
