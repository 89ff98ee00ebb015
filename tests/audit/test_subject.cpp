#include "audit/subject.hpp"
#include "fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>

using namespace lethe;

TEST_CASE("subject: the history of one digest and nobody else's", "[audit][subject]") {
    test::AuditFixture f;
    f.insert(f.request("R-alice", "alice"));
    f.insert(f.request("R-bob", "bob"));
    f.insert(f.request("R-alice-2", "alice")); // linked duplicate
    f.db.db().exec("UPDATE requests SET state = 'done', identifier = NULL, finished_at = "
                   "received_at + 3600000 WHERE request_id IN ('R-alice', 'R-alice-2')");

    const auto h = audit::subject_history(f.db, "digest-alice");
    CHECK(h.entries.size() == 2);
    for (const auto& e : h.entries) {
        CHECK(e.subject_digest == "digest-alice");
    }
    CHECK(h.requests.size() == 2);
    REQUIRE(h.erased_by);
    CHECK(h.erased_by->request_id == "R-alice");
    const auto text = audit::subject_text(h);
    const auto json = audit::subject_json(h);
    for (const auto* out : {&text, &json}) {
        CHECK(out->find("R-bob") == std::string::npos);
        CHECK(out->find("digest-bob") == std::string::npos);
        CHECK(out->find("R-alice-2") != std::string::npos);
    }
    CHECK(text.find("erased: yes") != std::string::npos);
    CHECK(h.entries_not_matching.empty());

    const auto nobody = audit::subject_history(f.db, "digest-carol");
    CHECK(nobody.entries.empty());
    CHECK(audit::subject_text(nobody).find("no requests") != std::string::npos);
}

TEST_CASE("subject: entries under the as-given digest are found and marked", "[audit][subject]") {
    test::AuditFixture f;
    f.insert(f.request("R-old", "ALICE")); // digested as given, before subject digest v2
    f.insert(f.request("R-new", "alice"));
    f.insert(f.request("R-bob", "bob"));

    const auto h = audit::subject_history(f.db, "digest-alice", "digest-ALICE");
    CHECK(h.as_given_digest == "digest-ALICE");
    REQUIRE(h.entries.size() == 2);
    CHECK(h.entries[0].request_ref == "R-old"); // seq order across both digests
    CHECK(h.entries[1].request_ref == "R-new");
    CHECK(h.entries_as_given == 1);
    CHECK(h.requests.size() == 2);
    CHECK(h.requests_as_given == std::set<std::string>{"R-old"});
    const auto text = audit::subject_text(h);
    CHECK(text.find("also searched digest-ALICE") != std::string::npos);
    CHECK(text.find("as-given digest 1 entries, 1 requests") != std::string::npos);
    CHECK(text.find("[as-given digest]") != std::string::npos);
    CHECK(text.find("R-bob") == std::string::npos);
    const auto json = nlohmann::json::parse(audit::subject_json(h));
    CHECK(json["as_given_digest"] == "digest-ALICE");
    CHECK(json["entries"][0]["matched"] == "as_given");
    CHECK(json["entries"][1]["matched"] == "canonical");

    // The same digest twice (an id, or an e-mail already in lower case): searched once.
    const auto same = audit::subject_history(f.db, "digest-alice", "digest-alice");
    CHECK(same.as_given_digest.empty());
    CHECK(same.entries.size() == 1);
    CHECK(audit::subject_text(same).find("also searched") == std::string::npos);
    CHECK(nlohmann::json::parse(audit::subject_json(same))["as_given_digest"].is_null());
}
