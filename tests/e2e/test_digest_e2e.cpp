// Subject digest v2 (issue 15): e-mail addresses are digested in lower case, and a database with
// requests digested the old way is re-digested once.
#include "cli_fixture.hpp"

#include <SQLiteCpp/Database.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>

using namespace lethe::test;
using json = nlohmann::json;

namespace {

std::int64_t count(const CliFixture& f, const std::string& sql) {
    SQLite::Database db(f.db_path().string(), SQLite::OPEN_READONLY);
    return db.execAndGet(sql).getInt64();
}

std::string linked_to(const CliFixture& f, const std::string& request_id) {
    SQLite::Database db(f.db_path().string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT p.request_id FROM requests r LEFT JOIN requests p ON p.id = "
                            "r.linked_to WHERE r.request_id = ?");
    q.bind(1, request_id);
    return q.executeStep() && !q.getColumn(0).isNull() ? q.getColumn(0).getString() : "";
}

} // namespace

TEST_CASE("an e-mail address in another case is the same subject", "[e2e][audit][digest]") {
    CliFixture f;
    f.init();
    auto first = f.lethe({"enqueue", "Jane@Example.com", "--request-id", "J-1"});
    INFO(first.err);
    REQUIRE(first.exit_code == 0);
    auto second = f.lethe({"enqueue", "jane@example.com", "--request-id", "J-2"});
    INFO(second.err);
    REQUIRE(second.exit_code == 0);
    CHECK(second.out.find("linked to active request J-1") != std::string::npos);

    // Without request_id: the derived one is the same in any case.
    auto upper = f.csv("upper.csv", "identifier,received_at\nANN@EXAMPLE.COM,2026-01-05\n");
    auto lower = f.csv("lower.csv", "identifier,received_at\nann@example.com,2026-01-05\n");
    REQUIRE(f.lethe({"import", upper}).exit_code == 0);
    auto again = f.lethe({"import", lower});
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(count(f, "SELECT count(*) FROM requests") == 3);

    auto s = f.lethe({"audit", "subject", "--json", "JANE@EXAMPLE.COM"});
    INFO(s.err);
    REQUIRE(s.exit_code == 0);
    auto j = json::parse(s.out);
    std::set<std::string> ids;
    for (const auto& r : j["requests"]) {
        ids.insert(r["request_id"].get<std::string>());
        CHECK(r["matched"] == "canonical");
    }
    CHECK(ids == std::set<std::string>{"J-1", "J-2"});
    CHECK(s.out.find("ane@") == std::string::npos); // no identifier in any case
    // As an id, the same text is another subject.
    auto as_id = f.lethe({"audit", "subject", "--id-type", "id", "JANE@EXAMPLE.COM"});
    CHECK(as_id.out.find("no requests") != std::string::npos);
}

TEST_CASE("requests digested the old way are re-digested once", "[e2e][audit][digest]") {
    CliFixture f;
    f.init();
    // O-1 as lethe before subject digest v2 stored it: an e-mail digested as given (an id's
    // digest is the bytes as given, so enqueue it as an id and retype it).
    REQUIRE(f.lethe({"enqueue", "Old@Example.com", "--id-type", "id", "--request-id", "O-1"})
                .exit_code == 0);
    REQUIRE(f.lethe({"enqueue", "old@example.com", "--request-id", "O-2"}).exit_code == 0);
    REQUIRE(linked_to(f, "O-2").empty()); // different digests so far: two active requests
    {
        SQLite::Database db(f.db_path().string(), SQLite::OPEN_READWRITE);
        db.exec("UPDATE requests SET id_type = 'email' WHERE request_id = 'O-1'");
        db.exec("DELETE FROM upgrade_steps"); // as the migration leaves an upgraded database
    }
    // A command without the subject key leaves it to do.
    REQUIRE(f.lethe({"status"}).exit_code == 0);
    CHECK(count(f, "SELECT count(*) FROM upgrade_steps") == 0);

    auto init = f.lethe({"init"});
    INFO(init.err);
    REQUIRE(init.exit_code == 0);
    CHECK(init.out.find("subject digest v2: 1 request digested again, 1 linked") !=
          std::string::npos);
    CHECK(linked_to(f, "O-2") == "O-1");
    CHECK(count(f, "SELECT count(*) FROM audit_log WHERE event = 'request.redigested' AND "
                   "request_ref = 'O-1' AND detail LIKE '{\"previous_digest\":%'") == 1);
    CHECK(count(f, "SELECT count(DISTINCT subject_digest) FROM requests") == 1);

    // Once only.
    auto again = f.lethe({"init"});
    REQUIRE(again.exit_code == 0);
    CHECK(again.out.find("subject digest v2") == std::string::npos);
    REQUIRE(f.lethe({"enqueue", "OLD@example.com", "--request-id", "O-3"}).exit_code == 0);
    CHECK(count(f, "SELECT count(*) FROM audit_log WHERE event = 'request.redigested'") == 1);
    CHECK(linked_to(f, "O-3") == "O-1");

    // The entry written before the change is found under the as-given digest, and said so.
    auto s = f.lethe({"audit", "subject", "Old@Example.com"});
    INFO(s.err);
    REQUIRE(s.exit_code == 0);
    CHECK(s.out.find("also searched") != std::string::npos);
    CHECK(s.out.find("as-given digest 1 entries, 0 requests") != std::string::npos);
    CHECK(s.out.find("[as-given digest]") != std::string::npos);
    CHECK(f.lethe({"audit", "verify"}).exit_code == 0);
}
