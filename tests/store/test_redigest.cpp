#include "fixture.hpp"
#include "store/redigest.hpp"

#include <catch2/catch.hpp>

using namespace lethe;

namespace {

// "v2-" + the identifier lower-cased when an e-mail: a stand-in for the keyed digest.
std::string fake_digest(const std::string& identifier, const std::string& id_type) {
    std::string s = identifier;
    if (id_type == "email") {
        for (char& c : s) {
            if (c >= 'A' && c <= 'Z') {
                c = static_cast<char>(c - 'A' + 'a');
            }
        }
    }
    return "v2-" + s;
}

// A request digested the v1 way: the fixture's "digest-" + identifier, and "v2-..." for those
// that already have their canonical digest.
store::NewRequest email_request(test::StoreFixture& f, const std::string& id,
                                const std::string& address) {
    auto r = f.request(id, address);
    r.id_type = "email";
    return r;
}

std::string digest_of(test::StoreFixture& f, const std::string& request_id) {
    SQLite::Statement q(f.db.db(), "SELECT subject_digest FROM requests WHERE request_id = ?");
    q.bind(1, request_id);
    return q.executeStep() ? q.getColumn(0).getString() : "(none)";
}

std::string linked_to(test::StoreFixture& f, const std::string& request_id) {
    SQLite::Statement q(f.db.db(), "SELECT p.request_id FROM requests r LEFT JOIN requests p ON "
                                   "p.id = r.linked_to WHERE r.request_id = ?");
    q.bind(1, request_id);
    return q.executeStep() && !q.getColumn(0).isNull() ? q.getColumn(0).getString() : "";
}

void forget_marker(test::StoreFixture& f) {
    // A database upgraded from schema 2 with e-mail requests: the migration left the step to do.
    f.db.db().exec("DELETE FROM upgrade_steps");
}

} // namespace

TEST_CASE("redigest: a new database needs nothing, and it runs once", "[store][redigest]") {
    test::StoreFixture f;
    CHECK_FALSE(store::redigest_needed(f.db));
    forget_marker(f);
    REQUIRE(store::redigest_needed(f.db));
    f.insert(email_request(f, "R1", "Jane@Example.com"));
    auto first = store::redigest_pending(f.db, f.clock, fake_digest);
    CHECK(first.ran);
    CHECK(first.redigested == 1);
    CHECK_FALSE(store::redigest_needed(f.db));
    CHECK(digest_of(f, "R1") == "v2-jane@example.com");
    // Run again (another command starting): nothing happens, no entry is written.
    const auto entries = f.count("SELECT count(*) FROM audit_log");
    auto second = store::redigest_pending(f.db, f.clock, [](const auto&, const auto&) {
        FAIL("digested again");
        return std::string();
    });
    CHECK_FALSE(second.ran);
    CHECK(f.count("SELECT count(*) FROM audit_log") == entries);
}

TEST_CASE("redigest: changed digests get an entry with the previous one; done requests stay",
          "[store][redigest]") {
    test::StoreFixture f;
    forget_marker(f);
    f.insert(email_request(f, "R-mail", "Ann@Example.com"));
    f.insert(f.request("R-id", "User-7"));
    f.insert(email_request(f, "R-done", "Bob@Example.com"));
    f.db.db().exec("UPDATE requests SET state = 'done', identifier = NULL, finished_at = 1 WHERE "
                   "request_id = 'R-done'");
    auto r = store::redigest_pending(f.db, f.clock, [](const auto& i, const auto& t) {
        // An id keeps its v1 digest: the canonical form of an id is the id as given.
        return t == "id" ? "digest-" + i : fake_digest(i, t);
    });
    CHECK(r.redigested == 1);
    CHECK(r.linked == 0);
    CHECK(digest_of(f, "R-mail") == "v2-ann@example.com");
    CHECK(digest_of(f, "R-id") == "digest-User-7");
    CHECK(digest_of(f, "R-done") == "digest-Bob@Example.com");
    SQLite::Statement q(f.db.db(), "SELECT request_ref, subject_digest, detail FROM audit_log "
                                   "WHERE event = 'request.redigested'");
    REQUIRE(q.executeStep());
    CHECK(q.getColumn(0).getString() == "R-mail");
    CHECK(q.getColumn(1).getString() == "v2-ann@example.com");
    CHECK(q.getColumn(2).getString() == R"({"previous_digest":"digest-Ann@Example.com"})");
    CHECK_FALSE(q.executeStep());
}

TEST_CASE("redigest: two active requests for the same person are linked, the later to the "
          "earlier",
          "[store][redigest]") {
    test::StoreFixture f;
    forget_marker(f);
    f.workspaces = {"eu", "us"};
    f.insert(email_request(f, "R-first", "Jane@Example.com")); // v1: its own digest
    auto second = email_request(f, "R-second", "jane@example.com");
    second.workspaces = std::vector<std::string>{"us"};
    f.insert(second);
    f.insert(email_request(f, "R-dup", "jane@example.com")); // linked to R-second (same v1 digest)
    REQUIRE(linked_to(f, "R-dup") == "R-second");
    // R-first's erasure in eu is under way.
    f.db.db().exec("UPDATE erasures SET state = 'suppressed' WHERE workspace = 'eu' AND request = "
                   "(SELECT id FROM requests WHERE request_id = 'R-first')");

    auto r = store::redigest_pending(f.db, f.clock, fake_digest);
    CHECK(r.redigested == 3);
    CHECK(r.linked == 1);
    CHECK(r.withdrawn == 2); // R-second's in us, and in eu (widened for R-dup)
    CHECK(linked_to(f, "R-first").empty());
    CHECK(linked_to(f, "R-second") == "R-first");
    CHECK(linked_to(f, "R-dup") == "R-first");
    for (const auto* id : {"R-first", "R-second", "R-dup"}) {
        CHECK(digest_of(f, id) == "v2-jane@example.com");
    }
    CHECK(f.erasure_state("R-first", "eu") == "suppressed");
    CHECK(f.erasure_state("R-first", "us") == "pending");
    CHECK(f.erasure_state("R-second", "us") == "cancelled");
    CHECK(f.count("SELECT count(*) FROM requests WHERE linked_to IS NULL AND state = "
                  "'pending'") == 1);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'request.redigested' AND "
                  "request_ref = 'R-second' AND detail LIKE '%\"linked_to\":\"R-first\"%'") == 1);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'request.relinked'") == 0);
}

TEST_CASE("redigest: a later request that already has the new digest is linked to the earlier",
          "[store][redigest]") {
    test::StoreFixture f;
    forget_marker(f);
    f.insert(email_request(f, "R-early", "Jane@Example.com"));
    auto late = email_request(f, "R-late", "jane@example.com");
    late.subject_digest = "v2-jane@example.com"; // admitted with its canonical digest
    f.insert(late);
    auto r = store::redigest_pending(f.db, f.clock, fake_digest);
    CHECK(r.redigested == 1);
    CHECK(r.linked == 1);
    CHECK(linked_to(f, "R-early").empty());
    CHECK(linked_to(f, "R-late") == "R-early");
    CHECK(f.erasure_state("R-early") == "pending");
    CHECK(f.erasure_state("R-late") == "cancelled");
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'request.relinked' AND "
                  "request_ref = 'R-late' AND detail LIKE '%\"linked_to\":\"R-early\"%'") == 1);
}

TEST_CASE("redigest: a re-digested later request is linked to the earlier one with the new digest",
          "[store][redigest]") {
    test::StoreFixture f;
    forget_marker(f);
    auto first = email_request(f, "R-first", "jane@example.com");
    first.subject_digest = "v2-jane@example.com"; // admitted with its canonical digest
    f.insert(first);
    f.insert(email_request(f, "R-later", "JANE@example.com"));
    auto r = store::redigest_pending(f.db, f.clock, fake_digest);
    CHECK(r.redigested == 1);
    CHECK(r.linked == 1);
    CHECK(linked_to(f, "R-later") == "R-first");
    CHECK(f.erasure_state("R-later") == "cancelled");
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'request.redigested' AND "
                  "request_ref = 'R-later' AND detail LIKE '%\"linked_to\":\"R-first\"%'") == 1);
}

TEST_CASE("redigest: a failure changes nothing and leaves the step to do", "[store][redigest]") {
    test::StoreFixture f;
    forget_marker(f);
    f.insert(email_request(f, "R1", "Ann@Example.com"));
    f.insert(email_request(f, "R2", "Bob@Example.com"));
    int calls = 0;
    CHECK_THROWS(store::redigest_pending(f.db, f.clock, [&](const auto& i, const auto& t) {
        if (++calls == 2) {
            throw std::runtime_error("boom");
        }
        return fake_digest(i, t);
    }));
    CHECK(digest_of(f, "R1") == "digest-Ann@Example.com");
    CHECK(store::redigest_needed(f.db));
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'request.redigested'") == 0);
}
