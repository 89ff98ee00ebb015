#include "cio/app_client.hpp"
#include "net/http.hpp"

#include <catch2/catch.hpp>

using namespace lethe;
using namespace lethe::cio;

namespace {

// Answers every request with one canned response and keeps what was sent.
class CannedHttp final : public net::HttpClient {
public:
    net::HttpResponse answer;
    std::vector<net::HttpRequest> sent;
    net::HttpResponse perform(const net::HttpRequest& req) override {
        sent.push_back(req);
        return answer;
    }
};

struct Fixture {
    CannedHttp http;
    FakeClock clock{1'000'000};
    AppClient client{http, Endpoint{"https://api.customer.io"}, "app-key", clock};
    void answer(long status, std::string body) {
        http.answer.status = status;
        http.answer.body = std::move(body);
    }
};

} // namespace

TEST_CASE("find_many: one bulk read, answers matched back to each value", "[cio][app]") {
    Fixture f;
    f.answer(200, R"({"customers": [
        {"identifiers": {"email": "Bob@Example.com", "cio_id": "c2"}},
        {"identifiers": {"email": "alice@example.com", "id": "a", "cio_id": "c1"}}]})");
    auto l = f.client.find_many(
        "email", {"alice@example.com", "bob@example.com", "carol@x.org", "ALICE@example.com"});
    REQUIRE(f.http.sent.size() == 1);
    CHECK(f.http.sent[0].method == "POST");
    CHECK(f.http.sent[0].url == "https://api.customer.io/v1/customers/attributes?id_type=email");
    CHECK(f.http.sent[0].body ==
          R"({"ids":["alice@example.com","bob@example.com","carol@x.org","ALICE@example.com"]})");
    CHECK(l.call.outcome == Outcome::success);
    REQUIRE(l.cio_ids.size() == 4);
    CHECK(l.cio_ids[0] == std::vector<std::string>{"c1"});
    CHECK(l.cio_ids[1] == std::vector<std::string>{"c2"}); // e-mail: case-insensitive
    CHECK(l.cio_ids[2].empty());                           // nobody
    CHECK(l.cio_ids[3] == std::vector<std::string>{"c1"}); // the same person, asked twice
}

TEST_CASE("find_many: ids match exactly; an answer that matches no value is not 'nobody'",
          "[cio][app]") {
    Fixture f;
    f.answer(200, R"({"customers": [{"identifiers": {"id": "Abc", "cio_id": "c9"}}]})");
    auto l = f.client.find_many("id", {"abc"});
    CHECK(l.call.outcome == Outcome::retryable);
    CHECK(l.call.error == "App API answered with an unexpected body");
    CHECK(l.cio_ids[0].empty());

    f.answer(200, R"({"people": []})");
    CHECK(f.client.find_many("id", {"abc"}).call.outcome == Outcome::retryable);
    f.answer(200, R"({"customers": [{"identifiers": {"id": "abc"}}]})"); // no cio_id
    CHECK(f.client.find_many("id", {"abc"}).call.outcome == Outcome::retryable);
}

TEST_CASE("find_many: 400 says the type is not an identifier; 429 and 5xx stay failures",
          "[cio][app]") {
    Fixture f;
    f.answer(400, R"({"meta": {"error": "person@example.com is not an identifier"}})");
    auto l = f.client.find_many("email", {"person@example.com"});
    CHECK(l.not_an_identifier);
    CHECK(l.call.error == "HTTP 400"); // the body may echo the identifier: never kept
    f.answer(429, "");
    l = f.client.find_many("email", {"person@example.com"});
    CHECK(l.call.outcome == Outcome::retryable);
    CHECK_FALSE(l.not_an_identifier);
    f.answer(503, "");
    CHECK(f.client.find_many("id", {"x"}).call.outcome == Outcome::retryable);
}

TEST_CASE("find_many: 1 to 100 values", "[cio][app]") {
    Fixture f;
    CHECK_THROWS_AS(f.client.find_many("id", {}), std::invalid_argument);
    CHECK_THROWS_AS(f.client.find_many("id", std::vector<std::string>(101, "x")),
                    std::invalid_argument);
    CHECK(f.http.sent.empty());
}
