// The identifier rules of lethe-sandbox: one test per rule Customer.io documents
// (../shared/DESIGN.md, "Customer.io facts"; docs/sandbox.md, "Identifier rules").
#include "sandbox/api_target.hpp"
#include "sandbox/identifiers.hpp"
#include "sandbox/rate_window.hpp"

#include <catch2/catch.hpp>

using namespace lethe::sandbox;

namespace {
const IdentifierRules k_email_or_id{IdentifyBy::email_or_id, false};
const IdentifierRules k_id_only{IdentifyBy::id, false};
const IdentifierRules k_with_phone{IdentifyBy::email_or_id, true};
} // namespace

TEST_CASE("identifiers: a v1 path value starting cio_ is a cio_id in every workspace",
          "[sandbox][identifiers]") {
    for (const auto& rules : {k_email_or_id, k_id_only}) {
        auto who = read_path_value("cio_65000001", rules);
        CHECK(who.kind == IdKind::cio_id);
        CHECK(who.value == "65000001");
    }
}

TEST_CASE("identifiers: in an email_or_id workspace an e-mail-shaped value is an e-mail",
          "[sandbox][identifiers]") {
    auto who = read_path_value("Jane@Example.com", k_email_or_id);
    CHECK(who.kind == IdKind::email);
    CHECK(match_form(who.kind, who.value) == "jane@example.com");
    CHECK(read_path_value("u-1", k_email_or_id).kind == IdKind::id);
    CHECK(read_path_value("jane@localhost", k_email_or_id).kind == IdKind::id);
    CHECK(read_path_value("@example.com", k_email_or_id).kind == IdKind::id);
    CHECK(read_path_value("a@b@example.com", k_email_or_id).kind == IdKind::id);
    CHECK(read_path_value("jane doe@example.com", k_email_or_id).kind == IdKind::id);
}

TEST_CASE("identifiers: ids match case-sensitively, e-mails case-insensitively",
          "[sandbox][identifiers]") {
    CHECK(match_form(IdKind::id, "U-1") != match_form(IdKind::id, "u-1"));
    CHECK(match_form(IdKind::cio_id, "AB12") != match_form(IdKind::cio_id, "ab12"));
    CHECK(match_form(IdKind::email, "JANE@EXAMPLE.COM") ==
          match_form(IdKind::email, "jane@example.com"));
}

TEST_CASE("identifiers: in an id workspace every non-cio_ value is an id, e-mails included",
          "[sandbox][identifiers]") {
    auto who = read_path_value("jane@example.com", k_id_only);
    CHECK(who.kind == IdKind::id);
    CHECK(who.value == "jane@example.com");
    CHECK_FALSE(is_identifier(IdKind::email, k_id_only));
    CHECK(is_identifier(IdKind::email, k_email_or_id));
}

TEST_CASE("identifiers: a phone number is never read from a v1 path", "[sandbox][identifiers]") {
    CHECK(read_path_value("+14155550100", k_with_phone).kind == IdKind::id);
    CHECK(read_path_value("+14155550100", k_id_only).kind == IdKind::id);
    CHECK(is_identifier(IdKind::phone, k_with_phone));
    CHECK_FALSE(is_identifier(IdKind::phone, k_email_or_id));
    CHECK(is_e164("+14155550100"));
    CHECK_FALSE(is_e164("14155550100"));
    CHECK_FALSE(is_e164("+04155550100"));
    CHECK_FALSE(is_e164("+1415555010012345"));
}

TEST_CASE("identifiers: kind and setting names round-trip", "[sandbox][identifiers]") {
    for (IdKind k : {IdKind::id, IdKind::email, IdKind::phone, IdKind::cio_id}) {
        CHECK(parse_kind(kind_name(k)) == k);
    }
    CHECK_FALSE(parse_kind("customer_id"));
    CHECK(parse_identify_by("id") == IdentifyBy::id);
    CHECK(parse_identify_by("email_or_id") == IdentifyBy::email_or_id);
    CHECK_FALSE(parse_identify_by("email"));
}

TEST_CASE("api target: an unencoded + in the App API's ?email= reads as a space",
          "[sandbox][identifiers]") {
    auto plain = parse_api_target("GET", "/v1/customers?email=a+b@example.com");
    CHECK(plain.api == Api::app);
    CHECK(plain.call == CallKind::find_by_email);
    CHECK(plain.identifier == std::optional<std::string>("a b@example.com"));
    auto encoded = parse_api_target("GET", "/v1/customers?email=a%2Bb%40example.com");
    CHECK(encoded.identifier == std::optional<std::string>("a+b@example.com"));
}

TEST_CASE("api target: Track v1, v2 and App API routes", "[sandbox][identifiers]") {
    CHECK(parse_api_target("POST", "/api/v1/customers/a%2Fb/suppress").identifier ==
          std::optional<std::string>("a/b"));
    CHECK(parse_api_target("POST", "/api/v1/customers/a/b/suppress").call == CallKind::unknown);
    CHECK(parse_api_target("POST", "/api/v2/entity").call == CallKind::entity);
    CHECK(parse_api_target("POST", "/api/v2/batch").call == CallKind::batch);
    CHECK(parse_api_target("GET", "/api/v2/entity").call == CallKind::unknown);
    auto attrs = parse_api_target("GET", "/v1/customers/u-1/attributes?id_type=id");
    CHECK(attrs.call == CallKind::attributes);
    CHECK(attrs.id_type == std::optional<std::string>("id"));
    CHECK(parse_api_target("POST", "/v1/customers/attributes?id_type=email").call ==
          CallKind::bulk_attributes);
    CHECK(parse_api_target("GET", "/v1/customers").error == "email is required");
}

TEST_CASE("rate window: at most N calls in any second, refused calls not counted",
          "[sandbox][identifiers]") {
    RateWindow window(10);
    for (int i = 0; i < 10; ++i) {
        CHECK(window.admit(1000 + i));
    }
    CHECK_FALSE(window.admit(1500));
    CHECK_FALSE(window.admit(1999));
    CHECK(window.admit(2000)); // the call at 1000 left the window
    CHECK_FALSE(window.admit(2000));
    RateWindow unlimited(0);
    for (int i = 0; i < 100; ++i) {
        CHECK(unlimited.admit(0));
    }
}
