#include "audit/subject.hpp"
#include "fixture.hpp"

#include <catch2/catch.hpp>

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
