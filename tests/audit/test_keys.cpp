#include "audit/keys.hpp"

#include <catch2/catch.hpp>

using namespace lethe;
using intake::IdType;

TEST_CASE("canonical_subject: e-mail in ASCII lower case, ids as given", "[audit][keys]") {
    CHECK(audit::canonical_subject("Jane@Example.COM", IdType::email) == "jane@example.com");
    CHECK(audit::canonical_subject("jane@example.com", IdType::email) == "jane@example.com");
    // Only A-Z: non-ASCII letters (here U+00C4 and U+00CB) keep their case.
    CHECK(audit::canonical_subject("\xC3\x84NNE.Z\xC3\x8B@X.org", IdType::email) ==
          "\xC3\x84nne.z\xC3\x8B@x.org");
    CHECK(audit::canonical_subject("Jane@Example.COM", IdType::id) == "Jane@Example.COM");
    CHECK(audit::canonical_subject("User-42", IdType::id) == "User-42");
    CHECK(audit::canonical_subject("cio_AbC123", IdType::cio_id) == "cio_AbC123");
}

TEST_CASE("SubjectDigester: the digest depends on the type", "[audit][keys]") {
    audit::SubjectDigester d(std::string(32, '\x07'));
    CHECK(d.digest("Jane@Example.com", IdType::email) ==
          d.digest("jane@example.com", IdType::email));
    CHECK(d.digest("Jane@Example.com", IdType::email) == d.digest_as_given("jane@example.com"));
    CHECK(d.digest("Jane@Example.com", IdType::id) == d.digest_as_given("Jane@Example.com"));
    CHECK(d.digest("Jane@Example.com", IdType::id) != d.digest("jane@example.com", IdType::id));
    CHECK(d.digest("cio_Ab", IdType::cio_id) != d.digest("cio_ab", IdType::cio_id));
    CHECK(d.derived_request_id("JANE@example.com", IdType::email, "2026-11-01") ==
          d.derived_request_id("jane@example.com", IdType::email, "2026-11-01"));
    CHECK(d.derived_request_id("JANE@example.com", IdType::email, "2026-11-01") !=
          d.derived_request_id_as_given("JANE@example.com", "2026-11-01"));
}
