#include "serve/intake_handler.hpp"

#include <catch2/catch.hpp>
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
    Admitted admit(const intake::RawRequest& raw) override {
        received.push_back(raw);
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
};

struct HandlerFixture {
    FakeClock clock{k_now};
    KeyRing keys{{k_secret}};
    FakeSink sink;
    IntakeHandler handler{keys, sink, clock, 256};

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
    f.keys.replace({k_secret, "rotated-secret"});
    CHECK(f.post(k_body, "rotated-secret").status == 201);
    CHECK(f.post(k_body, k_secret).status == 201);
    f.keys.replace({"rotated-secret"});
    CHECK(f.post(k_body, k_secret).status == 401);
}
