#include "../store/fixture.hpp"
#include "serve/admission_sink.hpp"

#include <catch2/catch.hpp>

using namespace lethe;
using namespace lethe::serve;

TEST_CASE("a batch commits its valid requests together; a refused one writes nothing",
          "[serve][group-commit]") {
    test::StoreFixture f;
    AdmissionSink sink(
        f.dir / "lethe.db",
        [] { return store::IdentifierCipher({test::StoreFixture::identifier_key()}); }, f.clock,
        audit::SubjectDigester(std::string(32, 'k')), {"default"});
    auto raw = [](const std::string& id, const std::string& identifier) {
        intake::RawRequest r;
        r.request_id = id;
        r.identifier = identifier;
        return r;
    };
    const SenderIdentity portal{"portal", 3, true};
    const SenderIdentity form{"form", 1, false};
    std::vector<intake::RawRequest> raws = {
        raw("R1", "alice@example.com"), raw("R2", ""),
        raw("R1", "bob@example.com"),   raw("R3", "alice@example.com"),
        raw("R4", "alice@example.com"), raw("R1", "alice@example.com")};
    std::vector<Submission> batch = {{&raws[0], &portal}, {&raws[1], &portal}, {&raws[2], &portal},
                                     {&raws[3], &portal}, {&raws[4], &form},   {&raws[5], &form}};
    auto results = sink.admit_all(batch);
    using O = Admitted::Outcome;
    REQUIRE(results.size() == 6);
    CHECK(results[0].outcome == O::created);
    CHECK(results[1].outcome == O::invalid);
    CHECK(results[2].outcome == O::conflict);
    CHECK(results[3].outcome == O::linked);
    CHECK(results[3].linked_to == "R1"); // the same sender's
    CHECK(results[4].outcome == O::linked);
    CHECK(results[4].linked_to.empty());      // another sender's request is not named
    CHECK(results[5].outcome == O::conflict); // the portal's request_id
    CHECK(results[5].reason.find("did not submit") != std::string::npos);
    CHECK(f.count("SELECT count(*) FROM requests") == 3);
    CHECK(f.count("SELECT count(*) FROM requests WHERE sender = 'portal' AND callback = 1") == 2);
    CHECK(f.count("SELECT count(*) FROM requests WHERE sender = 'form' AND callback = 0") == 1);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'request.received'") == 3);
}
