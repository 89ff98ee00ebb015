// What each emulated call does to a workspace: Track v1 and v2, and the App API reads.
#include "sandbox/calls.hpp"

#include <catch2/catch.hpp>

using namespace lethe::sandbox;
using nlohmann::json;

namespace {

// One workspace's profiles and settings, with a helper that runs a call as the server does.
struct Workspace1 {
    explicit Workspace1(IdentifyBy by, bool phone = false) : profiles({by, phone}, "65") {
        settings.name = "w";
        settings.rules = {by, phone};
        settings.environment_id = 101;
    }

    Answer call(const std::string& method, const std::string& target, const std::string& body = "",
                CallRecord* out = nullptr) {
        ApiTarget t = parse_api_target(method, target);
        REQUIRE(t.call != CallKind::unknown);
        REQUIRE(t.error.empty());
        PreparedCall prepared;
        if (auto refused = prepare_call(t, body, settings.rules, prepared)) {
            return *refused;
        }
        CallRecord record;
        ExecContext ctx{settings, url, now, delay, false};
        Answer a = execute_call(prepared, profiles, record, ctx);
        if (out != nullptr) {
            *out = record;
        }
        return a;
    }

    void add(std::optional<std::string> id, std::optional<std::string> email,
             std::optional<std::string> phone = std::nullopt) {
        ProfileSpec s;
        s.id = std::move(id);
        s.email = std::move(email);
        s.phone = std::move(phone);
        REQUIRE(profiles.add(s, now));
    }

    std::size_t live() const { return profiles.to_json(false)["profile_count"]; }

    WorkspaceSettings settings;
    Profiles profiles;
    std::string url = "http://127.0.0.1:1";
    lethe::TimeMs now = 1000;
    lethe::TimeMs delay = 0;
};

json entity(const std::string& action, const std::string& type, const std::string& value) {
    return {{"type", "person"}, {"action", action}, {"identifiers", {{type, value}}}};
}

} // namespace

TEST_CASE("calls: an e-mail in an id workspace's path is an id: 200, and nobody is deleted",
          "[sandbox][calls]") {
    Workspace1 w(IdentifyBy::id);
    w.add("u-1", "jane@example.com");
    CallRecord r;
    CHECK(w.call("DELETE", "/api/v1/customers/jane%40example.com", "", &r).status == 200);
    CHECK(r.matched == 0);
    CHECK(r.id_type == IdKind::id);
    CHECK(w.live() == 1);
    // It addresses the person whose *id* is that string.
    w.add("jane@example.com", std::nullopt);
    CHECK(w.call("DELETE", "/api/v1/customers/jane%40example.com", "", &r).status == 200);
    CHECK(r.matched == 1);
    CHECK(w.live() == 1);
    // A suppress blocks that id string; the person with the e-mail stays, e-mail unblocked.
    CHECK(w.call("POST", "/api/v1/customers/jane%40example.com/suppress", "", &r).status == 200);
    CHECK(r.matched == 0);
    CHECK(w.live() == 1);
    CHECK(w.profiles.blocked({IdKind::id, "jane@example.com"}));
    CHECK_FALSE(w.profiles.blocked({IdKind::email, "jane@example.com"}));
}

TEST_CASE("calls: in an email_or_id workspace an e-mail path matches case-insensitively",
          "[sandbox][calls]") {
    Workspace1 w(IdentifyBy::email_or_id);
    w.add("u-1", "Jane@Example.com");
    w.add("U-1", "other@example.com");
    CallRecord r;
    CHECK(w.call("POST", "/api/v1/customers/JANE%40example.COM/suppress", "", &r).status == 200);
    CHECK(r.id_type == IdKind::email);
    CHECK(r.matched == 1);
    CHECK(w.live() == 1);
    CHECK(w.profiles.find({IdKind::id, "U-1"}).size() == 1); // ids are case-sensitive
}

TEST_CASE("calls: suppress and destroy answer 200 {} whether or not anyone was found",
          "[sandbox][calls]") {
    Workspace1 w(IdentifyBy::email_or_id);
    const std::pair<const char*, const char*> calls[] = {
        {"POST", "/api/v1/customers/nobody/suppress"},
        {"DELETE", "/api/v1/customers/nobody"},
        {"POST", "/api/v1/customers/nobody%40example.com/suppress"},
        {"DELETE", "/api/v1/customers/cio_ffffff"}};
    for (const auto& [method, target] : calls) {
        CallRecord r;
        Answer a = w.call(method, target, "", &r);
        CHECK(a.status == 200);
        CHECK(a.body == json::object());
        CHECK(r.matched == 0);
    }
}

TEST_CASE("calls: a phone number in a v1 path is an id, even where phone is an identifier",
          "[sandbox][calls]") {
    Workspace1 w(IdentifyBy::email_or_id, true);
    w.add("u-1", std::nullopt, "+14155550100");
    CallRecord r;
    CHECK(w.call("POST", "/api/v1/customers/%2B14155550100/suppress", "", &r).status == 200);
    CHECK(r.matched == 0);
    CHECK(w.live() == 1);
    CHECK(w.call("POST", "/api/v2/entity", entity("suppress", "phone", "+14155550100").dump(), &r)
              .status == 200);
    CHECK(r.matched == 1);
    CHECK(w.live() == 0);
}

TEST_CASE("calls: v2 entity takes exactly one typed identifier the workspace has",
          "[sandbox][calls]") {
    Workspace1 id_ws(IdentifyBy::id);
    id_ws.add("a", "jane@example.com");
    CHECK(id_ws.call("POST", "/api/v2/entity", entity("delete", "email", "jane@example.com").dump())
              .status == 400);
    CHECK(id_ws.call("POST", "/api/v2/entity", entity("delete", "phone", "+14155550100").dump())
              .status == 400);
    json two = entity("delete", "id", "a");
    two["identifiers"]["cio_id"] = "650000001";
    CHECK(id_ws.call("POST", "/api/v2/entity", two.dump()).status == 400);
    json object = entity("delete", "id", "a");
    object["type"] = "object";
    CHECK(id_ws.call("POST", "/api/v2/entity", object.dump()).status == 400);
    CHECK(id_ws.call("POST", "/api/v2/entity", entity("merge", "id", "a").dump()).status == 400);
    CHECK(id_ws.call("POST", "/api/v2/entity", "{").status == 400);
    CHECK(id_ws.call("POST", "/api/v2/entity", std::string(33 * 1024, ' ')).status == 413);
    CHECK(id_ws.live() == 1);
    std::string cio = id_ws.profiles.find({IdKind::id, "a"}).front()->cio_id;
    CHECK(id_ws.call("POST", "/api/v2/entity", entity("suppress", "cio_id", cio).dump()).status ==
          200);
    CHECK(id_ws.live() == 0);
    CHECK(id_ws.profiles.blocked({IdKind::id, "a"}));
}

TEST_CASE("calls: v2 batch applies the good operations and answers 207 by batch_index",
          "[sandbox][calls]") {
    Workspace1 w(IdentifyBy::id);
    w.add("a", "x@example.com");
    w.add("b", "x@example.com");
    json body = {{"batch",
                  {entity("suppress", "id", "a"), entity("delete", "email", "x@example.com"),
                   entity("delete", "id", "b")}}};
    Answer a = w.call("POST", "/api/v2/batch", body.dump());
    CHECK(a.status == 207);
    REQUIRE(a.body["errors"].size() == 1);
    CHECK(a.body["errors"][0]["batch_index"] == 1);
    CHECK(w.live() == 0);
    json good = {{"batch", {entity("delete", "id", "zzz")}}};
    CHECK(w.call("POST", "/api/v2/batch", good.dump()).status == 200);
    CHECK(w.call("POST", "/api/v2/batch", R"({"batch": []})").status == 400);
}

TEST_CASE("calls: App API search by e-mail finds every profile, case-insensitively",
          "[sandbox][calls]") {
    Workspace1 w(IdentifyBy::id);
    w.add("a", "Jane@Example.com");
    w.add("b", "jane@example.com");
    w.add("c", "jane@example.org");
    w.add("d", "a+b@example.com");
    Answer a = w.call("GET", "/v1/customers?email=JANE%40EXAMPLE.COM");
    CHECK(a.status == 200);
    CHECK(a.body["results"].size() == 2);
    CHECK(w.call("GET", "/v1/customers?email=a+b@example.com").body["results"].empty());
    CHECK(w.call("GET", "/v1/customers?email=a%2Bb%40example.com").body["results"].size() == 1);
}

TEST_CASE("calls: App API attributes: 404 when absent, 400 for a type the workspace lacks",
          "[sandbox][calls]") {
    Workspace1 id_ws(IdentifyBy::id);
    id_ws.add("a", "jane@example.com");
    Answer found = id_ws.call("GET", "/v1/customers/a/attributes?id_type=id");
    CHECK(found.status == 200);
    CHECK(found.body["customer"]["email"] == "jane@example.com");
    CHECK(id_ws.call("GET", "/v1/customers/b/attributes").status == 404);
    CHECK(id_ws.call("GET", "/v1/customers/jane%40example.com/attributes?id_type=email").status ==
          400);
    CHECK(id_ws.call("GET", "/v1/customers/a/attributes?id_type=phone").status == 400);
    CHECK(id_ws.call("GET", "/v1/customers/a/attributes?id_type=customer").status == 400);
    std::string cio = found.body["customer"]["cio_id"];
    CHECK(id_ws.call("GET", "/v1/customers/" + cio + "/attributes?id_type=cio_id").status == 200);

    Workspace1 email_ws(IdentifyBy::email_or_id);
    email_ws.add("a", "jane@example.com");
    CHECK(
        email_ws.call("GET", "/v1/customers/JANE%40example.com/attributes?id_type=email").status ==
        200);
}

TEST_CASE("calls: App API bulk attributes returns those that exist, 1 to 100 ids",
          "[sandbox][calls]") {
    Workspace1 w(IdentifyBy::email_or_id);
    w.add("a", std::nullopt);
    w.add("b", std::nullopt);
    Answer a = w.call("POST", "/v1/customers/attributes?id_type=id",
                      json{{"ids", {"a", "missing", "b"}}}.dump());
    CHECK(a.status == 200);
    CHECK(a.body["customers"].size() == 2);
    CHECK(w.call("POST", "/v1/customers/attributes", json{{"ids", json::array()}}.dump()).status ==
          400);
    json many = json::array();
    for (int i = 0; i < 101; ++i) {
        many.push_back("id" + std::to_string(i));
    }
    CHECK(w.call("POST", "/v1/customers/attributes", json{{"ids", many}}.dump()).status == 400);
    CHECK(w.call("POST", "/v1/customers/attributes", "[]").status == 400);
}

TEST_CASE("calls: App API reads see a deleted profile during the visibility delay",
          "[sandbox][calls]") {
    Workspace1 w(IdentifyBy::email_or_id);
    w.delay = 500;
    w.add("a", "jane@example.com");
    REQUIRE(w.call("POST", "/api/v1/customers/a/suppress").status == 200);
    CHECK(w.live() == 0);
    w.now += 499;
    CHECK(w.call("GET", "/v1/customers/a/attributes").status == 200);
    CHECK(w.call("GET", "/v1/customers?email=jane%40example.com").body["results"].size() == 1);
    w.now += 1;
    CHECK(w.call("GET", "/v1/customers/a/attributes").status == 404);
}

TEST_CASE("calls: region reports the workspace's own settings", "[sandbox][calls]") {
    Workspace1 w(IdentifyBy::email_or_id);
    w.settings.region = "eu";
    Answer a = w.call("GET", "/api/v1/accounts/region");
    CHECK(a.body == json{{"url", w.url}, {"region", "eu"}, {"environment_id", 101}});
    w.settings.track_url = "https://track-eu.customer.io";
    CHECK(w.call("GET", "/api/v1/accounts/region").body["url"] == "https://track-eu.customer.io");
}
