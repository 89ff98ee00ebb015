#include "audit/keys.hpp"
#include "support/tempdir.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

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

TEST_CASE("identifier keys: created 0600, read one per line, bad lines named", "[audit][keys]") {
    test::TempDir dir;
    const auto path = dir / "identifier.key";
    REQUIRE(audit::create_identifier_key(path));
    CHECK_FALSE(audit::create_identifier_key(path)); // never overwritten
    CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
    const auto keys = audit::load_identifier_keys(path);
    REQUIRE(keys.size() == 1);
    CHECK(keys[0].size() == 32);

    // A rotation: the new key first, the old one below it.
    const std::string old_line(64, 'a');
    const std::string new_line(64, 'b');
    std::filesystem::remove(path);
    create_private_file(path, new_line + "\n\n" + old_line + "\n");
    const auto both = audit::load_identifier_keys(path);
    REQUIRE(both.size() == 2);
    CHECK(both[0] == std::string(32, '\xbb'));
    CHECK(both[1] == std::string(32, '\xaa'));

    std::filesystem::remove(path);
    create_private_file(path, new_line + "\nnot-hex\n");
    try {
        audit::load_identifier_keys(path);
        FAIL("a bad line was accepted");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) == path.string() + ":2: not an identifier key (expected 64 "
                                                       "hex characters)");
    }
    std::filesystem::remove(path);
    create_private_file(path, "\n");
    CHECK_THROWS_AS(audit::load_identifier_keys(path), ConfigError);
}
