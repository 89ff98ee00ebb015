#include "serve/intake_handler.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

using namespace lethe;
using namespace lethe::serve;
using nlohmann::json;

namespace {

constexpr TimeMs k_now = 1795348800000;
const std::string k_secret = "handler-secret-77";

// A sink that records what reaches it and answers with a preset outcome.
class FakeSink final : public RequestSink {
public:
    Admitted admit(const intake::RawRequest& raw, const SenderIdentity& sender) override {
        received.push_back(raw);
        senders.push_back(sender.name);
        if (fail) {
            throw std::runtime_error("database is locked");
        }
        Admitted a = answer;
        a.request_id = raw.request_id;
        return a;
    }
    Admitted answer;
    bool fail = false;
    std::vector<intake::RawRequest> received;
    std::vector<std::string> senders;
};

// Requests by (sender, request_id); records every lookup.
class FakeReader final : public RequestReader {
public:
    std::optional<store::RequestView> find(std::string_view sender,
                                           std::string_view request_id) override {
        lookups.emplace_back(std::string(sender), std::string(request_id));
        if (fail) {
            throw std::runtime_error("database is locked");
        }
        auto it = rows.find({std::string(sender), std::string(request_id)});
        if (it == rows.end()) {
            return std::nullopt;
        }
        return it->second;
    }
    std::map<std::pair<std::string, std::string>, store::RequestView> rows;
    std::vector<std::pair<std::string, std::string>> lookups;
    bool fail = false;
};

struct HandlerFixture {
    FakeClock clock{k_now};
    SenderRing keys = SenderRing::single({k_secret});
    FakeSink sink;
    FakeReader reader;
    IntakeHandler handler{keys, sink, reader, clock, 256};

    Reply post(const std::string& body, const std::string& secret = k_secret) {
        const std::string ts = std::to_string(clock.now_ms() / 1000);
        const std::string sig = sign_request(secret, ts, body);
        return handler.handle({ts, sig}, body);
    }
};

const std::string k_body = R"({"request_id":"DSR-7","identifier":"jane@example.com"})";

} // namespace

TEST_CASE("the handler maps admission outcomes to status codes", "[serve][handler]") {
    HandlerFixture f;
    using O = Admitted::Outcome;
    f.sink.answer.outcome = O::created;
    auto r = f.post(k_body);
    CHECK(r.status == 201);
    CHECK(json::parse(r.body) == json{{"status", "created"}, {"request_id", "DSR-7"}});
    REQUIRE(f.sink.received.size() == 1);
    CHECK(f.sink.received[0].identifier == "jane@example.com");

    f.sink.answer.outcome = O::linked;
    f.sink.answer.linked_to = "DSR-1";
    r = f.post(k_body);
    CHECK(r.status == 201);
    CHECK(json::parse(r.body)["linked_to"] == "DSR-1");

    f.sink.answer = {};
    f.sink.answer.outcome = O::known;
    CHECK(f.post(k_body).status == 200);
    CHECK(json::parse(f.post(k_body).body)["status"] == "known");

    f.sink.answer.outcome = O::conflict;
    f.sink.answer.reason = "request_id DSR-7 is already known with a different subject";
    r = f.post(k_body);
    CHECK(r.status == 409);
    CHECK(json::parse(r.body)["reason"] == f.sink.answer.reason);

    f.sink.answer.outcome = O::invalid;
    f.sink.answer.reason = "identifier is missing or empty";
    r = f.post(k_body);
    CHECK(r.status == 400);
    CHECK(json::parse(r.body) ==
          json{{"status", "rejected"}, {"reason", "identifier is missing or empty"}});

    f.sink.fail = true;
    r = f.post(k_body);
    CHECK(r.status == 503);
    CHECK(json::parse(r.body)["status"] == "unavailable");
}

TEST_CASE("size, signature and body are checked before anything is admitted", "[serve][handler]") {
    HandlerFixture f;
    f.sink.answer.outcome = Admitted::Outcome::created;

    auto r = f.post(R"({"request_id":"X","identifier":")" + std::string(300, 'a') + "\"}");
    CHECK(r.status == 413);
    CHECK(json::parse(r.body)["reason"] == "body is larger than 256 bytes");

    r = f.post(k_body, "wrong-secret");
    CHECK(r.status == 401);
    CHECK(json::parse(r.body)["status"] == "unauthorized");

    r = f.handler.handle({}, k_body);
    CHECK(r.status == 401);

    const std::string ts = std::to_string(k_now / 1000 - 301);
    r = f.handler.handle({ts, sign_request(k_secret, ts, k_body)}, k_body);
    CHECK(r.status == 401);
    CHECK(json::parse(r.body)["reason"] == "X-Lethe-Timestamp is more than 300 s in the past");

    r = f.post(R"({"request_id":"X","identifier":42})");
    CHECK(r.status == 400);
    CHECK(json::parse(r.body)["reason"] == "field 'identifier' must be a string");

    CHECK(f.sink.received.empty());
    // Replies never carry the identifier.
    CHECK(f.post(k_body, "wrong-secret").body.find("jane") == std::string::npos);
}

TEST_CASE("a new secret installed on the key ring applies to the next request",
          "[serve][handler]") {
    HandlerFixture f;
    f.sink.answer.outcome = Admitted::Outcome::created;
    CHECK(f.post(k_body, "rotated-secret").status == 401);
    f.keys.replace(*SenderRing::single({k_secret, "rotated-secret"}).senders());
    CHECK(f.post(k_body, "rotated-secret").status == 201);
    CHECK(f.post(k_body, k_secret).status == 201);
    f.keys.replace(*SenderRing::single({"rotated-secret"}).senders());
    CHECK(f.post(k_body, k_secret).status == 401);
}

namespace {

constexpr unsigned k_submit = static_cast<unsigned>(config::SenderScope::submit);
constexpr unsigned k_read = static_cast<unsigned>(config::SenderScope::read);

// Three senders: a portal that submits and reads, a form that only submits, and an auditor
// that only reads.
struct SendersFixture {
    FakeClock clock{k_now};
    SenderRing senders{{
        {"portal", k_submit | k_read, {"portal-secret-1", "portal-secret-2"}, true},
        {"form", k_submit, {"form-secret"}, false},
        {"auditor", k_read, {"auditor-secret"}, false},
    }};
    FakeSink sink;
    FakeReader reader;
    IntakeHandler handler{senders, sink, reader, clock, 256};

    std::string ts() const { return std::to_string(clock.now_ms() / 1000); }

    Reply post(const std::string& secret) {
        const std::string t = ts();
        return handler.handle({t, sign_request(secret, t, k_body)}, k_body);
    }

    Reply get(const std::string& secret, const std::string& path, std::string t = {}) {
        if (t.empty()) {
            t = ts();
        }
        const std::string sig = sign_request(secret, t, query_signed_body("GET", path));
        const std::string prefix = "/v1/erasure-requests/";
        return handler.status({t, sig}, path, path.substr(prefix.size()));
    }
};

store::RequestView portal_request() {
    store::RequestView v;
    v.row = 7;
    v.request_id = "DSR-7";
    v.state = "done";
    v.received_at = k_now - 86'400'000;
    v.deadline_at = k_now + 86'400'000;
    v.finished_at = k_now;
    v.erasures = {{"eu", "done", true}, {"us", "done", false}};
    return v;
}

} // namespace

TEST_CASE("the sender of a request is the one whose secret signed it",
          "[serve][handler][senders]") {
    SendersFixture f;
    f.sink.answer.outcome = Admitted::Outcome::created;
    CHECK(f.post("portal-secret-1").status == 201);
    CHECK(f.post("portal-secret-2").status == 201); // its next secret, during a rotation
    CHECK(f.post("form-secret").status == 201);
    CHECK(f.sink.senders == std::vector<std::string>{"portal", "portal", "form"});
    // A secret nobody has is refused with the same reason whoever's it resembles.
    auto r = f.post("portal-secret-3");
    CHECK(r.status == 401);
    CHECK(json::parse(r.body)["reason"] ==
          "X-Lethe-Signature does not match the body and timestamp");
    CHECK(f.sink.received.size() == 3);
}

TEST_CASE("a sender without the scope is refused with 403", "[serve][handler][senders]") {
    SendersFixture f;
    f.sink.answer.outcome = Admitted::Outcome::created;
    auto r = f.post("auditor-secret");
    CHECK(r.status == 403);
    CHECK(json::parse(r.body) ==
          json{{"status", "forbidden"},
               {"reason", "this sender does not have the scope \"submit\""}});
    CHECK(f.sink.received.empty());

    f.reader.rows[{"form", "DSR-7"}] = portal_request();
    r = f.get("form-secret", "/v1/erasure-requests/DSR-7");
    CHECK(r.status == 403);
    CHECK(json::parse(r.body)["reason"] == "this sender does not have the scope \"read\"");
    CHECK(f.reader.lookups.empty()); // refused before the database is asked

    // Revoking a scope (SIGHUP) applies to the next request.
    f.senders.replace({{"portal", k_read, {"portal-secret-1"}, true}});
    CHECK(f.post("portal-secret-1").status == 403);
}

TEST_CASE("a status query answers the sender's own request, and 404 for any other",
          "[serve][handler][senders]") {
    SendersFixture f;
    f.reader.rows[{"portal", "DSR-7"}] = portal_request();
    auto r = f.get("portal-secret-1", "/v1/erasure-requests/DSR-7");
    REQUIRE(r.status == 200);
    const json body = json::parse(r.body);
    CHECK(body == json{{"status", "found"},
                       {"request_id", "DSR-7"},
                       {"state", "done"},
                       {"verified", false}, // one workspace could not read it back
                       {"received_at", "2026-11-21T12:00:00.000Z"},
                       {"deadline_at", "2026-11-23T12:00:00.000Z"},
                       {"finished_at", "2026-11-22T12:00:00.000Z"},
                       {"workspaces",
                        {{{"workspace", "eu"}, {"state", "done"}, {"verified", true}},
                         {{"workspace", "us"}, {"state", "done"}, {"verified", false}}}}});

    // The auditor can read, but not the portal's requests: the same answer as an unknown id,
    // after the same lookup.
    auto other = f.get("auditor-secret", "/v1/erasure-requests/DSR-7");
    auto unknown = f.get("portal-secret-1", "/v1/erasure-requests/DSR-8");
    CHECK(other.status == 404);
    CHECK(unknown.status == 404);
    CHECK(other.body == unknown.body);
    CHECK(json::parse(other.body) == json{{"status", "not_found"}, {"reason", "no such request"}});
    CHECK(f.reader.lookups == std::vector<std::pair<std::string, std::string>>{
                                  {"portal", "DSR-7"}, {"auditor", "DSR-7"}, {"portal", "DSR-8"}});

    f.reader.fail = true;
    f.clock.advance(1'000); // the same query in the same second would be a replay
    CHECK(f.get("portal-secret-1", "/v1/erasure-requests/DSR-7").status == 503);
}

TEST_CASE("a status query must be signed over its path, within the window",
          "[serve][handler][senders]") {
    SendersFixture f;
    f.reader.rows[{"portal", "DSR-7"}] = portal_request();
    const std::string path = "/v1/erasure-requests/DSR-7";
    // Unsigned.
    CHECK(f.handler.status({}, path, "DSR-7").status == 401);
    // Signed for another path: not valid for this one.
    const std::string t = f.ts();
    const std::string other =
        sign_request("portal-secret-1", t, query_signed_body("GET", "/v1/erasure-requests/DSR-8"));
    CHECK(f.handler.status({t, other}, path, "DSR-7").status == 401);
    // A POST's signature (over its body) is not a query's, and a query's is not a POST's.
    const std::string post_sig = sign_request("portal-secret-1", t, "");
    CHECK(f.handler.status({t, post_sig}, path, "DSR-7").status == 401);
    const std::string get_sig = sign_request("portal-secret-1", t, query_signed_body("GET", path));
    CHECK(f.handler.handle({t, get_sig}, k_body).status == 401);
    // Answered once; replayed within the window: refused, before the database is asked.
    CHECK(f.get("portal-secret-1", path, t).status == 200);
    f.clock.advance(120'000);
    auto r = f.get("portal-secret-1", path, t);
    CHECK(r.status == 401);
    CHECK(json::parse(r.body)["reason"] == "this signature was answered already (a replayed "
                                           "query); sign the query again in a later second");
    CHECK(f.reader.lookups.size() == 1);
    // Signed again now: a new query.
    CHECK(f.get("portal-secret-1", path).status == 200);
    // Replayed after the window (300 s): refused by the window.
    f.clock.advance(181'000);
    r = f.get("portal-secret-1", path, t);
    CHECK(r.status == 401);
    CHECK(json::parse(r.body)["reason"] == "X-Lethe-Timestamp is more than 300 s in the past");
}

TEST_CASE("a status query signed before the server started is refused",
          "[serve][handler][senders]") {
    SendersFixture f; // the handler starts at k_now
    f.reader.rows[{"portal", "DSR-7"}] = portal_request();
    const std::string path = "/v1/erasure-requests/DSR-7";
    // Inside the window, but a previous process may have answered it.
    auto r = f.get("portal-secret-1", path, std::to_string(k_now / 1000 - 1));
    CHECK(r.status == 401);
    CHECK(json::parse(r.body)["reason"] ==
          "X-Lethe-Timestamp is before this server started; sign the query again");
    CHECK(f.reader.lookups.empty());
    CHECK(f.get("portal-secret-1", path).status == 200);
}
