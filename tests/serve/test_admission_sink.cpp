#include "../store/fixture.hpp"
#include "serve/admission_sink.hpp"
#include "store/audit_log.hpp"
#include "store/audit_tree.hpp"
#include "util/strings.hpp"

#include <SQLiteCpp/Transaction.h>
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

TEST_CASE("a batch that fails is rolled back whole, and the next starts afresh",
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
    std::vector<intake::RawRequest> raws = {
        raw("R1", "alice@example.com"), raw("R2", "bob@example.com"),
        raw("BOOM", "carol@example.com"), raw("R3", "dave@example.com")};
    CHECK(sink.admit_all({{&raws[0], &portal}}).at(0).outcome == Admitted::Outcome::created);
    // The database refuses one insert (a trigger another connection adds: the sink's kept
    // statements are prepared again for the changed schema).
    f.db.db().exec("CREATE TRIGGER boom BEFORE INSERT ON requests WHEN NEW.request_id = 'BOOM' "
                   "BEGIN SELECT RAISE(ABORT, 'boom'); END");
    CHECK_THROWS(sink.admit_all({{&raws[1], &portal}, {&raws[2], &portal}}));
    CHECK(f.count("SELECT count(*) FROM requests") == 1); // R2 went with the batch
    // Meanwhile another writer appends to the log.
    {
        SQLite::Transaction tx(f.db.db());
        store::AuditAppender(f.db.db(), f.clock).append("worker.started", "", "", "{}");
        tx.commit();
    }
    auto results = sink.admit_all({{&raws[1], &portal}, {&raws[3], &portal}});
    CHECK(results.at(0).outcome == Admitted::Outcome::created);
    CHECK(results.at(1).outcome == Admitted::Outcome::created);
    CHECK(f.count("SELECT count(*) FROM requests") == 3);
    const auto entries = f.count("SELECT count(*) FROM audit_log");
    CHECK(f.count("SELECT count(*) FROM audit_log a JOIN audit_log b ON b.seq = a.seq + 1 "
                  "WHERE b.prev_hash = a.hash") == entries - 1);
    // The stored tree is the tree of the log.
    crypto::merkle::Frontier recomputed;
    SQLite::Statement q(f.db.db(), "SELECT hash FROM audit_log ORDER BY seq");
    while (q.executeStep()) {
        recomputed.push(crypto::merkle::leaf_hash(*from_hex(q.getColumn(0).getString())));
    }
    CHECK(store::AuditTreeReader(f.db.db()).root(entries) == recomputed.root());
}
