// The people of one emulated workspace: uniqueness, suppress, destroy, blocks, visibility.
#include "sandbox/profiles.hpp"

#include <catch2/catch.hpp>

using namespace lethe::sandbox;

namespace {

ProfileSpec person(std::optional<std::string> id, std::optional<std::string> email,
                   std::optional<std::string> phone = std::nullopt) {
    ProfileSpec s;
    s.id = std::move(id);
    s.email = std::move(email);
    s.phone = std::move(phone);
    return s;
}

std::size_t live(const Profiles& p) {
    return p.to_json(false)["profile_count"].get<std::size_t>();
}

} // namespace

TEST_CASE("profiles: e-mails are unique in email_or_id workspaces, shared in id workspaces",
          "[sandbox][profiles]") {
    Profiles email_or_id({IdentifyBy::email_or_id, false}, "65");
    REQUIRE(email_or_id.add(person("u-1", "Jane@Example.com"), 0));
    CHECK_THROWS_AS(email_or_id.add(person("u-2", "jane@example.COM"), 0), ProfileError);
    CHECK_THROWS_AS(email_or_id.add(person("u-1", "other@example.com"), 0), ProfileError);

    Profiles id_only({IdentifyBy::id, false}, "66");
    REQUIRE(id_only.add(person("a", "Jane@Example.com"), 0));
    REQUIRE(id_only.add(person("b", "jane@example.com"), 0));
    REQUIRE(id_only.add(person("c", "JANE@example.com"), 0));
    CHECK(id_only.find({IdKind::email, "jane@EXAMPLE.com"}).size() == 3);
    CHECK_THROWS_AS(id_only.add(person(std::nullopt, "x@example.com"), 0), ProfileError);
}

TEST_CASE("profiles: seeds are checked", "[sandbox][profiles]") {
    Profiles p({IdentifyBy::email_or_id, true}, "65");
    CHECK_THROWS_AS(p.add(person(std::nullopt, std::nullopt), 0), ProfileError);
    CHECK_THROWS_AS(p.add(person("u", "not-an-email"), 0), ProfileError);
    CHECK_THROWS_AS(p.add(person("u", std::nullopt, "555-0100"), 0), ProfileError);
    REQUIRE(p.add(person("u", std::nullopt, "+14155550100"), 0));
    CHECK_THROWS_AS(p.add(person("v", std::nullopt, "+14155550100"), 0), ProfileError);
    ProfileSpec bad_cio = person("w", std::nullopt);
    bad_cio.cio_id = "not/alnum";
    CHECK_THROWS_AS(p.add(bad_cio, 0), ProfileError);
}

TEST_CASE("profiles: suppress deletes the profile and blocks its identifiers",
          "[sandbox][profiles]") {
    Profiles p({IdentifyBy::email_or_id, false}, "65");
    REQUIRE(p.add(person("u-1", "Jane@Example.com"), 0));
    REQUIRE(p.add(person("u-2", "bob@example.com"), 0));
    auto effect = p.suppress({IdKind::email, "JANE@example.com"}, 5);
    CHECK(effect.matched == 1);
    CHECK(live(p) == 1);
    CHECK(p.blocked({IdKind::id, "u-1"}));
    CHECK(p.blocked({IdKind::email, "jane@example.com"}));
    // A later identify with a blocked identifier is ignored, by id and by e-mail attribute.
    CHECK_FALSE(p.identify({IdKind::id, "u-1"}, nlohmann::json::object(), 6).applied);
    CHECK_FALSE(p.identify({IdKind::id, "u-9"}, {{"email", "jane@EXAMPLE.com"}}, 6).applied);
    CHECK_FALSE(p.add(person("u-1", std::nullopt), 7));
    CHECK(live(p) == 1);
    CHECK(p.unsuppress({IdKind::id, "u-1"}));
    CHECK(p.identify({IdKind::id, "u-1"}, nlohmann::json::object(), 8).applied);
    CHECK(live(p) == 2);
}

TEST_CASE("profiles: in an id workspace suppress blocks the id, not the e-mail",
          "[sandbox][profiles]") {
    Profiles p({IdentifyBy::id, false}, "66");
    REQUIRE(p.add(person("a", "jane@example.com"), 0));
    CHECK(p.suppress({IdKind::id, "a"}, 1).matched == 1);
    CHECK(p.blocked({IdKind::id, "a"}));
    CHECK_FALSE(p.blocked({IdKind::email, "jane@example.com"}));
}

TEST_CASE("profiles: suppress of an identifier nobody holds still blocks it",
          "[sandbox][profiles]") {
    Profiles p({IdentifyBy::email_or_id, false}, "65");
    CHECK(p.suppress({IdKind::email, "ghost@example.com"}, 0).matched == 0);
    CHECK(p.blocked({IdKind::email, "ghost@example.com"}));
    CHECK_FALSE(p.add(person("g", "Ghost@example.com"), 1));
}

TEST_CASE("profiles: destroy deletes without blocking", "[sandbox][profiles]") {
    Profiles p({IdentifyBy::email_or_id, false}, "65");
    REQUIRE(p.add(person("u-1", "jane@example.com"), 0));
    CHECK(p.destroy({IdKind::id, "u-1"}, 1).matched == 1);
    CHECK(p.destroy({IdKind::id, "u-1"}, 2).matched == 0);
    CHECK_FALSE(p.blocked({IdKind::id, "u-1"}));
    CHECK(p.add(person("u-1", "jane@example.com"), 3));
}

TEST_CASE("profiles: cio_ids are assigned per workspace and address exactly one profile",
          "[sandbox][profiles]") {
    Profiles p({IdentifyBy::id, false}, "65");
    REQUIRE(p.add(person("a", "x@example.com"), 0));
    REQUIRE(p.add(person("b", "x@example.com"), 0));
    auto found = p.find({IdKind::email, "x@example.com"});
    REQUIRE(found.size() == 2);
    std::string cio = found[0]->cio_id;
    CHECK(cio.rfind("65", 0) == 0);
    CHECK(p.find({IdKind::cio_id, cio}).size() == 1);
    CHECK(p.destroy({IdKind::cio_id, cio}, 1).matched == 1);
    CHECK(p.find({IdKind::email, "x@example.com"}).size() == 1);
}

TEST_CASE("profiles: a deleted profile stays visible to reads for the visibility delay",
          "[sandbox][profiles]") {
    Profiles p({IdentifyBy::email_or_id, false}, "65");
    REQUIRE(p.add(person("u-1", "jane@example.com"), 0));
    REQUIRE(p.suppress({IdKind::id, "u-1"}, 1000).matched == 1);
    CHECK(p.find({IdKind::id, "u-1"}).empty());
    CHECK(p.visible({IdKind::id, "u-1"}, 1500, 1000).size() == 1);
    CHECK(p.visible({IdKind::email, "JANE@example.com"}, 1999, 1000).size() == 1);
    CHECK(p.visible({IdKind::id, "u-1"}, 2000, 1000).empty());
    CHECK(p.visible({IdKind::id, "u-1"}, 1001, 0).empty());
}

TEST_CASE("profiles: identify creates by id or e-mail and never by cio_id", "[sandbox][profiles]") {
    Profiles p({IdentifyBy::email_or_id, false}, "65");
    CHECK(p.identify({IdKind::email, "New@Example.com"}, {{"plan", "pro"}}, 0).applied);
    auto found = p.find({IdKind::email, "new@example.com"});
    REQUIRE(found.size() == 1);
    CHECK(found[0]->attributes["plan"] == "pro");
    CHECK_FALSE(p.identify({IdKind::cio_id, "ffff"}, nlohmann::json::object(), 0).applied);
    REQUIRE(p.add(person("u-1", std::nullopt), 0));
    CHECK_THROWS_AS(p.identify({IdKind::id, "u-1"}, {{"email", "new@example.com"}}, 1),
                    ProfileError);
}
