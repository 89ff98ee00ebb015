#include "../net/local_server.hpp"
#include "cio/track_client.hpp"
#include "lethe_version.h"
#include "net/curl_client.hpp"
#include "support/tempdir.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

using namespace lethe;
using namespace lethe::cio;
using lethe::test::LocalServer;

namespace {

// 1994-11-06T08:49:37Z, the date of RFC 9110's examples.
constexpr TimeMs k_rfc_now = 784'111'777'000;
const std::string k_basic_site_key = "Basic c2l0ZTprZXk="; // base64("site:key")

// Answers from a script (then 200 "{}") and records every request.
class FakeHttp final : public net::HttpClient {
public:
    std::vector<net::HttpResponse> script;
    std::vector<net::HttpRequest> sent;

    net::HttpResponse perform(const net::HttpRequest& req) override {
        sent.push_back(req);
        // Consumed from the front, so that a test may replace the script half-way.
        if (!script.empty()) {
            net::HttpResponse next = script.front();
            script.erase(script.begin());
            return next;
        }
        return reply(200, "{}");
    }

    static net::HttpResponse reply(long status, std::string body = {},
                                   std::vector<std::pair<std::string, std::string>> headers = {}) {
        net::HttpResponse r;
        r.status = status;
        r.body = std::move(body);
        r.headers = std::move(headers);
        r.latency_ms = 5;
        return r;
    }
};

std::string header_of(const net::HttpRequest& req, const std::string& name) {
    for (const auto& [n, v] : req.headers) {
        if (to_lower(n) == to_lower(name)) {
            return v;
        }
    }
    return {};
}

struct Fixture {
    FakeHttp http;
    FakeClock clock{k_rfc_now};
    TrackClient client{http, Endpoint{"https://track.customer.io"}, Credentials{"site", "key"},
                       clock};
};

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

} // namespace

TEST_CASE("percent_encode: every byte outside the unreserved set", "[cio]") {
    CHECK(percent_encode("a/b?c#d%e@f+g h~._-") == "a%2Fb%3Fc%23d%25e%40f%2Bg%20h~._-");
    CHECK(percent_encode("AZaz09") == "AZaz09");
    CHECK(percent_encode("jos\xC3\xA9@example.com") == "jos%C3%A9%40example.com");
    CHECK(percent_encode("\xE4\xBE\x8B") == "%E4%BE%8B");
    CHECK(percent_encode(std::string_view("a\0b", 3)) == "a%00b");
    CHECK(percent_encode("\x7F\xFF:;=&,") == "%7F%FF%3A%3B%3D%26%2C");
    CHECK(percent_encode("") == "");
}

TEST_CASE("classify_status: the documented table", "[cio]") {
    for (long s : {200L, 201L, 202L, 204L, 299L}) {
        CHECK(classify_status(s) == Outcome::success);
    }
    CHECK(classify_status(401) == Outcome::auth);
    CHECK(classify_status(403) == Outcome::auth);
    for (long s : {408L, 429L, 500L, 502L, 503L, 504L, 522L, 524L, 501L, 505L, 599L}) {
        CHECK(classify_status(s) == Outcome::retryable);
    }
    for (long s : {400L, 404L, 405L, 409L, 410L, 413L, 422L, 451L}) {
        CHECK(classify_status(s) == Outcome::permanent);
    }
    for (long s : {300L, 301L, 302L, 304L, 307L, 308L}) {
        CHECK(classify_status(s) == Outcome::halt);
    }
    CHECK(classify_status(0) == Outcome::retryable);
    CHECK(classify_status(100) == Outcome::retryable);
}

TEST_CASE("parse_retry_after: seconds and HTTP dates", "[cio]") {
    CHECK(parse_retry_after("120", k_rfc_now) == 120'000);
    CHECK(parse_retry_after(" 7 ", k_rfc_now) == 7'000);
    CHECK(parse_retry_after("0", k_rfc_now) == 0);
    // Absurd delays are capped at one day (and never overflow).
    CHECK(parse_retry_after("999999", k_rfc_now) == 86'400'000);
    CHECK(parse_retry_after("99999999999999999999999", k_rfc_now) == 86'400'000);

    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", k_rfc_now) == 30'000);
    CHECK(parse_retry_after("Sunday, 06-Nov-94 08:50:07 GMT", k_rfc_now) == 30'000);
    CHECK(parse_retry_after("Sun Nov  6 08:50:07 1994", k_rfc_now) == 30'000);
    CHECK(parse_retry_after("Mon, 07 Nov 1994 08:49:37 GMT", k_rfc_now) == 86'400'000);
    CHECK(parse_retry_after("Thu, 29 Feb 2024 00:00:01 GMT", 1'709'164'800'000) == 1'000);

    SECTION("a date in the past is no delay") {
        CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", k_rfc_now) == 0);
        CHECK(parse_retry_after("Sat, 01 Jan 1994 00:00:00 GMT", k_rfc_now) == 0);
    }
    SECTION("garbage is not a delay") {
        for (const char* v : {"", "  ", "soon", "-5", "1.5", "5s", "0x10", "Sun, 06 Nov 1994",
                              "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 29 Feb 1995 08:49:37 GMT",
                              "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
                              "Sun, 06 Nov 1994 08:49:37 UTC", "sun, 06 nov 1994 08:49:37 gmt",
                              "Sun, 06 Nov 1994 08:49:37 GMT trailing"}) {
            CAPTURE(v);
            CHECK(!parse_retry_after(v, k_rfc_now).has_value());
        }
    }
}

TEST_CASE("validate_endpoint: https only, http only on loopback with the flag", "[cio]") {
    CHECK_NOTHROW(validate_endpoint({"https://track.customer.io"}));
    CHECK_NOTHROW(validate_endpoint({"https://track-eu.customer.io/"}));
    CHECK_NOTHROW(validate_endpoint({"https://127.0.0.1:8443"}));
    CHECK_NOTHROW(validate_endpoint({"HTTPS://Track.Customer.IO"}));
    CHECK_THROWS_AS(validate_endpoint({"http://track.customer.io"}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({"http://track.customer.io", true}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({"http://127.0.0.1"}), ConfigError);
    CHECK_NOTHROW(validate_endpoint({"http://127.0.0.1", true}));
    CHECK_NOTHROW(validate_endpoint({"http://127.0.0.1:8080", true}));
    CHECK_NOTHROW(validate_endpoint({"http://[::1]:8080", true}));
    CHECK_THROWS_AS(validate_endpoint({"http://[::1]:8080"}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({"http://10.0.0.1", true}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({"http://localhost:8080", true}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({"http://127.0.0.2", true}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({"http://127.0.0.1.evil.example", true}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({"http://127.0.0.1@evil.example", true}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({"https://user:pw@track.customer.io"}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({"https://track.customer.io?x=1"}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({"https://track.customer.io#x"}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({"https://"}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({"https://:443"}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({"https://track.customer.io:0"}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({"https://track.customer.io:99999"}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({"ftp://track.customer.io"}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({"track.customer.io"}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({""}), ConfigError);
    CHECK_THROWS_AS(validate_endpoint({"https://track.customer.io /x"}), ConfigError);
    FakeHttp http;
    FakeClock clock{0};
    CHECK_THROWS_AS(TrackClient(http, {"http://track.customer.io"}, {"s", "k"}, clock),
                    ConfigError);
}

TEST_CASE("is_customerio_host: customer.io and its subdomains only", "[cio]") {
    for (const char* h : {"customer.io", "track.customer.io", "track-eu.customer.io",
                          "TRACK.Customer.IO", "a.b.customer.io"}) {
        CAPTURE(h);
        CHECK(is_customerio_host(h));
    }
    for (const char* h :
         {"", "evilcustomer.io", "customer.io.evil.example", "customer.io.", "track.customer.io.",
          ".customer.io", "..customer.io", "a..customer.io", "customer.com", "127.0.0.1", "[::1]",
          "evil.example", "track.customer.io:443", "tr ack.customer.io", "track%2ecustomer.io",
          "evil.example/.customer.io", "evil.example#.customer.io"}) {
        CAPTURE(h);
        CHECK(!is_customerio_host(h));
    }
}

TEST_CASE("track client: suppress and destroy requests", "[cio]") {
    Fixture f;
    auto s = f.client.suppress("a/b@c d");
    CHECK(s.outcome == Outcome::success);
    CHECK(s.http_status == 200);
    CHECK(s.error.empty());
    CHECK(s.latency_ms == 5);
    auto d = f.client.destroy("a/b@c d");
    CHECK(d.outcome == Outcome::success);
    CHECK(!d.already_gone);

    REQUIRE(f.http.sent.size() == 2);
    const auto& post = f.http.sent[0];
    CHECK(post.method == "POST");
    CHECK(post.url == "https://track.customer.io/api/v1/customers/a%2Fb%40c%20d/suppress");
    CHECK(post.body == "{}");
    CHECK(header_of(post, "Authorization") == k_basic_site_key);
    CHECK(header_of(post, "Content-Type") == "application/json");
    CHECK(header_of(post, "Accept") == "application/json");
    const auto& del = f.http.sent[1];
    CHECK(del.method == "DELETE");
    CHECK(del.url == "https://track.customer.io/api/v1/customers/a%2Fb%40c%20d");
    CHECK(del.body.empty());
    CHECK(header_of(del, "Authorization") == k_basic_site_key);
    CHECK(header_of(del, "Content-Type").empty());
}

TEST_CASE("track client: a trailing slash or path prefix in track_url", "[cio]") {
    FakeHttp http;
    FakeClock clock{0};
    TrackClient a(http, {"https://track.customer.io/"}, {"site", "key"}, clock);
    a.suppress("x");
    TrackClient b(http, {"https://proxy.example/cio//"}, {"site", "key"}, clock);
    b.destroy("x");
    REQUIRE(http.sent.size() == 2);
    CHECK(http.sent[0].url == "https://track.customer.io/api/v1/customers/x/suppress");
    CHECK(http.sent[1].url == "https://proxy.example/cio/api/v1/customers/x");
}

TEST_CASE("track client: identifiers no URL path can carry are refused unsent", "[cio]") {
    Fixture f;
    for (const char* id : {"", ".", ".."}) {
        CAPTURE(id);
        auto s = f.client.suppress(id);
        CHECK(s.outcome == Outcome::permanent);
        CHECK(s.http_status == 0);
        CHECK(!s.error.empty());
        CHECK(f.client.destroy(id).outcome == Outcome::permanent);
    }
    CHECK(f.http.sent.empty());
    CHECK(f.client.suppress("...").outcome == Outcome::success);
    CHECK(f.http.sent.at(0).url == "https://track.customer.io/api/v1/customers/.../suppress");
}

TEST_CASE("track client: rotated credentials are used from the next call", "[cio]") {
    Fixture f;
    f.client.suppress("x");
    f.client.set_credentials({"site2", "key2"});
    f.client.destroy("x");
    REQUIRE(f.http.sent.size() == 2);
    CHECK(header_of(f.http.sent[0], "Authorization") == k_basic_site_key);
    CHECK(header_of(f.http.sent[1], "Authorization") == "Basic c2l0ZTI6a2V5Mg==");
}

TEST_CASE("track client: outcomes of API answers", "[cio]") {
    Fixture f;
    SECTION("401 and 403 are auth") {
        f.http.script = {FakeHttp::reply(401, R"({"meta":{"error":"Unauthorized request"}})"),
                         FakeHttp::reply(403)};
        auto a = f.client.suppress("x");
        CHECK(a.outcome == Outcome::auth);
        CHECK(a.http_status == 401);
        CHECK(a.error == "HTTP 401"); // the body's words are not kept
        auto b = f.client.destroy("x");
        CHECK(b.outcome == Outcome::auth);
        CHECK(b.error == "HTTP 403");
    }
    SECTION("404 on destroy: already gone; on suppress: permanent") {
        f.http.script = {FakeHttp::reply(404, R"({"meta":{"error":"not found"}})"),
                         FakeHttp::reply(404)};
        auto d = f.client.destroy("x");
        CHECK(d.outcome == Outcome::success);
        CHECK(d.already_gone);
        CHECK(d.http_status == 404);
        CHECK(d.error.empty());
        auto s = f.client.suppress("x");
        CHECK(s.outcome == Outcome::permanent);
        CHECK(!s.already_gone);
        CHECK(s.error == "HTTP 404");
    }
    SECTION("429 and 503 are retryable, with Retry-After as seconds or a date") {
        f.http.script = {
            FakeHttp::reply(429, "", {{"retry-after", "7"}}),
            FakeHttp::reply(503, "", {{"retry-after", "Sun, 06 Nov 1994 08:50:07 GMT"}}),
            FakeHttp::reply(502), FakeHttp::reply(500, "", {{"retry-after", "later"}}),
            FakeHttp::reply(408)};
        auto a = f.client.suppress("x");
        CHECK(a.outcome == Outcome::retryable);
        CHECK(a.error == "HTTP 429");
        CHECK(a.retry_after_ms == 7'000);
        auto b = f.client.suppress("x");
        CHECK(b.outcome == Outcome::retryable);
        CHECK(b.retry_after_ms == 30'000);
        auto c = f.client.suppress("x");
        CHECK(c.outcome == Outcome::retryable);
        CHECK(c.error == "HTTP 502");
        CHECK(!c.retry_after_ms.has_value());
        CHECK(!f.client.suppress("x").retry_after_ms.has_value());
        CHECK(f.client.suppress("x").outcome == Outcome::retryable);
    }
    SECTION("transport failures are retryable with their generic text") {
        net::HttpResponse timeout;
        timeout.transport_error = "timeout";
        timeout.timed_out = true;
        timeout.latency_ms = 100;
        net::HttpResponse refused;
        refused.transport_error = "connection failed";
        f.http.script = {timeout, refused, net::HttpResponse{}};
        auto a = f.client.suppress("x");
        CHECK(a.outcome == Outcome::retryable);
        CHECK(a.http_status == 0);
        CHECK(a.error == "timeout");
        CHECK(a.latency_ms == 100);
        CHECK(f.client.destroy("x").error == "connection failed");
        CHECK(f.client.destroy("x").error == "network error");
    }
}

TEST_CASE("track client: nothing of an API error body is kept but a reason from lethe's "
          "vocabulary",
          "[cio]") {
    Fixture f;
    const std::string id = "Jane.Doe+gdpr@Example.com";
    SECTION("the identifier in any encoding, and every other word of the body, stay out") {
        // Encodings a denylist does not know: percent-encoding of the '@' alone, HTML entities,
        // Unicode escapes, base64.
        for (const std::string text :
             {"customer Jane.Doe+gdpr%40Example.com is invalid",
              "customer Jane.Doe+gdpr&#64;Example.com is invalid",
              "customer Jane.Doe+gdpr\\u0040Example.com is invalid",
              "customer SmFuZS5Eb2UrZ2RwckBFeGFtcGxlLmNvbQ== is invalid"}) {
            f.http.script = {FakeHttp::reply(400, R"({"meta":{"error":")" + text + R"("}})")};
            auto r = f.client.suppress(id);
            CHECK(r.outcome == Outcome::permanent);
            CHECK(r.error == "HTTP 400: invalid value");
            CHECK(r.reason == ApiReason::invalid_value);
        }
    }
    SECTION("known phrases become reasons, whatever else the text says") {
        f.http.script = {
            FakeHttp::reply(
                400, R"({"meta":{"errors":["email Jane@x.com is not an identifier here"]}})"),
            FakeHttp::reply(400, R"({"errors":[{"reason":"invalid","message":"too long: J"}]})"),
            FakeHttp::reply(422, R"({"meta":{"error":"something else about Jane"}})"),
            FakeHttp::reply(400, "<html>Jane.Doe+gdpr@Example.com</html>"),
            FakeHttp::reply(503, R"({"meta":{"error":"invalid Jane"}})")};
        auto a = f.client.suppress(id);
        CHECK(a.error == "HTTP 400: not an identifier of this workspace");
        CHECK(a.reason == ApiReason::not_an_identifier);
        CHECK(f.client.suppress(id).error == "HTTP 400: too large");
        CHECK(f.client.suppress(id).error == "HTTP 422");
        CHECK(f.client.suppress(id).error == "HTTP 400");
        auto e = f.client.suppress(id);
        CHECK(e.outcome == Outcome::retryable);
        CHECK(e.error == "HTTP 503"); // a 5xx body is not read at all
    }
    SECTION("classify_api_error on its own") {
        CHECK(classify_api_error(404, "") == ApiReason::none); // the status says it all
        CHECK(classify_api_error(404, R"({"meta":{"error":"customer x not found"}})") ==
              ApiReason::not_found);
        CHECK(classify_api_error(400, "{}") == ApiReason::none);
        CHECK(classify_api_error(400, R"({"meta":{"error":"NOT AN IDENTIFIER"}})") ==
              ApiReason::not_an_identifier);
        CHECK(classify_api_error(200, R"({"meta":{"error":"invalid"}})") == ApiReason::none);
        for (auto r : {ApiReason::not_an_identifier, ApiReason::invalid_value, ApiReason::too_large,
                       ApiReason::not_found}) {
            CHECK(!to_text(r).empty());
        }
    }
}

TEST_CASE("track client: region", "[cio]") {
    Fixture f;
    SECTION("parses the answer") {
        f.http.script = {FakeHttp::reply(
            200, R"({"url":"https://track-eu.customer.io","region":"eu","environment_id":42})")};
        auto info = f.client.region();
        CHECK(info.call.outcome == Outcome::success);
        CHECK(info.url == "https://track-eu.customer.io");
        CHECK(info.region == "eu");
        CHECK(info.environment_id == 42);
        REQUIRE(f.http.sent.size() == 1);
        CHECK(f.http.sent[0].method == "GET");
        CHECK(f.http.sent[0].url == "https://track.customer.io/api/v1/accounts/region");
        CHECK(f.http.sent[0].body.empty());
        CHECK(header_of(f.http.sent[0], "Authorization") == k_basic_site_key);
    }
    SECTION("says which host answered, also after a redirect within customer.io") {
        f.http.script = {FakeHttp::reply(
            200, R"({"url":"https://track.customer.io","region":"us","environment_id":1})")};
        CHECK(f.client.region().answered_by == "https://track.customer.io");
        f.http.script = {
            FakeHttp::reply(307, "", {{"location", "https://track-eu.customer.io:443/x"}}),
            FakeHttp::reply(
                200, R"({"url":"https://track.customer.io","region":"us","environment_id":1})")};
        auto info = f.client.region();
        CHECK(info.call.outcome == Outcome::success);
        CHECK(info.answered_by == "https://track-eu.customer.io:443");
        f.http.script = {FakeHttp::reply(302, "", {{"location", "https://evil.example/"}})};
        info = f.client.region();
        CHECK(info.call.outcome == Outcome::halt);
        CHECK(info.answered_by.empty());
    }
    SECTION("bad credentials") {
        f.http.script = {FakeHttp::reply(401)};
        auto info = f.client.region();
        CHECK(info.call.outcome == Outcome::auth);
        CHECK(info.region.empty());
    }
    SECTION("an unexpected body is permanent") {
        f.http.script = {FakeHttp::reply(200, "{}"), FakeHttp::reply(200, "oops")};
        CHECK(f.client.region().call.outcome == Outcome::permanent);
        CHECK(f.client.region().call.outcome == Outcome::permanent);
    }
}

TEST_CASE("track client: redirects within customer.io are followed", "[cio]") {
    Fixture f;
    SECTION("to another customer.io host, keeping method, body and credentials") {
        f.http.script = {FakeHttp::reply(
            308, "", {{"location", "https://track-eu.customer.io/api/v1/customers/x/suppress"}})};
        auto r = f.client.suppress("x");
        CHECK(r.outcome == Outcome::success);
        CHECK(r.latency_ms == 10);
        REQUIRE(f.http.sent.size() == 2);
        CHECK(f.http.sent[1].method == "POST");
        CHECK(f.http.sent[1].body == "{}");
        CHECK(f.http.sent[1].url == "https://track-eu.customer.io/api/v1/customers/x/suppress");
        CHECK(header_of(f.http.sent[1], "Authorization") == k_basic_site_key);
    }
    SECTION("a relative Location stays on the same host") {
        f.http.script = {FakeHttp::reply(301, "", {{"location", "/api/v2/customers/x#frag"}})};
        CHECK(f.client.destroy("x").outcome == Outcome::success);
        REQUIRE(f.http.sent.size() == 2);
        CHECK(f.http.sent[1].method == "DELETE");
        CHECK(f.http.sent[1].url == "https://track.customer.io/api/v2/customers/x");
    }
    SECTION("three hops at most") {
        const auto hop = FakeHttp::reply(302, "", {{"location", "https://track.customer.io/next"}});
        f.http.script = {hop, hop, hop};
        CHECK(f.client.suppress("x").outcome == Outcome::success);
        CHECK(f.http.sent.size() == 4);
        f.http.sent.clear();
        f.http.script = {hop, hop, hop, hop, hop, hop, hop};
        auto r = f.client.suppress("x");
        CHECK(r.outcome == Outcome::halt);
        CHECK(r.error == "too many redirects");
        CHECK(f.http.sent.size() == 4);
    }
}

TEST_CASE("track client: redirects elsewhere halt and are never sent", "[cio]") {
    const std::string id = "secret-person@example.com";
    const std::string enc = percent_encode(id);
    struct Case {
        std::string location;
        std::string error;
    };
    const std::vector<Case> cases = {
        {"https://evil.example/api/v1/customers/" + enc + "/suppress",
         "redirect to a host outside customer.io refused (evil.example)"},
        {"//evil.example/x", "redirect to a host outside customer.io refused (evil.example)"},
        {"https://track.customer.io@evil.example/x", "redirect to an unusable Location refused"},
        {"https://track.customer.io.evil.example/x",
         "redirect to a host outside customer.io refused (track.customer.io.evil.example)"},
        {"http://track.customer.io/api/v1/customers/" + enc + "/suppress",
         "redirect to a non-https URL refused (track.customer.io)"},
        {"https://127.0.0.1:9/x", "redirect to a host outside customer.io refused (127.0.0.1)"},
        {"https://[::1]/x", "redirect to a host outside customer.io refused ([::1])"},
        {"api/v1/relative", "redirect to an unusable Location refused"},
        {"javascript:alert(1)", "redirect to an unusable Location refused"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.location);
        Fixture f;
        f.http.script = {FakeHttp::reply(307, "", {{"location", c.location}})};
        auto r = f.client.suppress(id);
        CHECK(r.outcome == Outcome::halt);
        CHECK(r.http_status == 307);
        CHECK(r.error == c.error);
        CHECK(!contains(r.error, "secret-person"));
        CHECK(!contains(r.error, enc));
        CHECK(f.http.sent.size() == 1);
    }
    Fixture f;
    f.http.script = {FakeHttp::reply(302)};
    auto r = f.client.destroy(id);
    CHECK(r.outcome == Outcome::halt);
    CHECK(r.error == "HTTP 302 without a Location");
    CHECK(f.http.sent.size() == 1);
}

// The same behaviour end to end: TrackClient on CurlHttpClient against a real local server.
TEST_CASE("track client over HTTP: requests as the server sees them", "[cio]") {
    const std::string id = "a/b?c#d%e@f+g h~._-";
    LocalServer server([](const httplib::Request& req, httplib::Response& res) {
        if (req.method == "DELETE") {
            res.status = 404;
            res.set_content(R"({"meta":{"error":"not found"}})", "application/json");
            return;
        }
        res.set_content("{}", "application/json");
    });
    net::CurlHttpClient http(net::CurlOptions{2000, 1000, "", ""});
    SystemClock clock;
    TrackClient client(http, {server.url(), true}, {"site", "key"}, clock);

    auto s = client.suppress(id);
    CHECK(s.outcome == Outcome::success);
    CHECK(s.http_status == 200);
    auto d = client.destroy(id);
    CHECK(d.outcome == Outcome::success);
    CHECK(d.already_gone);

    auto seen = server.seen();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].method == "POST");
    CHECK(seen[0].target == "/api/v1/customers/a%2Fb%3Fc%23d%25e%40f%2Bg%20h~._-/suppress");
    CHECK(seen[0].body == "{}");
    CHECK(seen[0].header("Authorization") == k_basic_site_key);
    CHECK(seen[0].header("Content-Type") == "application/json");
    CHECK(seen[0].header("User-Agent") == std::string("lethe/") + LETHE_VERSION);
    CHECK(seen[1].method == "DELETE");
    CHECK(seen[1].target == "/api/v1/customers/a%2Fb%3Fc%23d%25e%40f%2Bg%20h~._-");
    CHECK(seen[1].header("Authorization") == k_basic_site_key);
    CHECK(seen[1].header("User-Agent") == std::string("lethe/") + LETHE_VERSION);
    CHECK(seen[0].remote_port == seen[1].remote_port);
}

TEST_CASE("track client over HTTP: error answers", "[cio]") {
    const std::string id = "person-42@example.com";
    LocalServer server([&](const httplib::Request& req, httplib::Response& res) {
        const std::string auth = req.get_header_value("Authorization");
        if (auth != k_basic_site_key) {
            res.status = 401;
            res.set_content(R"({"meta":{"error":"Unauthorized request"}})", "application/json");
        } else if (req.path.find("retry") != std::string::npos) {
            res.status = 429;
            res.set_header("Retry-After", "3");
        } else {
            res.status = 400;
            res.set_content(R"({"meta":{"error":"customer )" + req.path.substr(18) +
                                R"( is not valid"}})",
                            "application/json");
        }
    });
    net::CurlHttpClient http(net::CurlOptions{2000, 1000, "", ""});
    SystemClock clock;
    TrackClient client(http, {server.url(), true}, {"site", "wrong"}, clock);

    auto unauthorised = client.suppress(id);
    CHECK(unauthorised.outcome == Outcome::auth);
    CHECK(unauthorised.http_status == 401);
    CHECK(!contains(unauthorised.error, "wrong"));

    client.set_credentials({"site", "key"});
    auto bad = client.suppress(id);
    CHECK(bad.outcome == Outcome::permanent);
    CHECK(bad.http_status == 400);
    CHECK(bad.error == "HTTP 400: invalid value");
    CHECK(!contains(bad.error, "person-42"));

    auto limited = client.destroy("retry-me");
    CHECK(limited.outcome == Outcome::retryable);
    CHECK(limited.retry_after_ms == 3'000);
}

TEST_CASE("track client over HTTP: a redirect to a foreign host reaches nobody", "[cio]") {
    const std::string id = "person-7@example.com";
    LocalServer foreign([](const httplib::Request&, httplib::Response& res) {
        res.set_content("{}", "application/json");
    });
    std::mutex mutex;
    std::string location; // guarded by mutex: the server thread reads it
    auto redirect_to = [&](std::string base) {
        std::lock_guard lock(mutex);
        location = std::move(base);
    };
    LocalServer server([&](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(mutex);
        res.status = 307;
        res.set_header("Location", location + req.target);
    });
    net::CurlHttpClient http(net::CurlOptions{2000, 1000, "", ""});
    SystemClock clock;
    TrackClient client(http, {server.url(), true}, {"site", "key"}, clock);

    redirect_to("https://evil.example");
    auto r = client.suppress(id);
    CHECK(r.outcome == Outcome::halt);
    CHECK(r.error == "redirect to a host outside customer.io refused (evil.example)");
    CHECK(!contains(r.error, "person-7"));

    // Another port on 127.0.0.1 is another origin, and not customer.io either.
    redirect_to(foreign.url());
    auto d = client.destroy(id);
    CHECK(d.outcome == Outcome::halt);
    CHECK(d.error == "redirect to a host outside customer.io refused (127.0.0.1)");

    CHECK(server.seen().size() == 2);
    CHECK(foreign.seen().empty());
}

TEST_CASE("track client over HTTP: timeouts and refused connections are retryable", "[cio]") {
    LocalServer slow([](const httplib::Request&, httplib::Response& res) {
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        res.set_content("{}", "application/json");
    });
    SystemClock clock;
    {
        net::CurlHttpClient http(net::CurlOptions{100, 100, "", ""});
        TrackClient client(http, {slow.url(), true}, {"site", "key"}, clock);
        auto r = client.suppress("person-9");
        CHECK(r.outcome == Outcome::retryable);
        CHECK(r.http_status == 0);
        CHECK(r.error == "timeout");
    }
    {
        net::CurlHttpClient http(net::CurlOptions{1000, 500, "", ""});
        const std::string url = "http://127.0.0.1:" + std::to_string(test::closed_port());
        TrackClient client(http, {url, true}, {"site", "key"}, clock);
        auto r = client.destroy("person-9");
        CHECK(r.outcome == Outcome::retryable);
        CHECK(r.http_status == 0);
        CHECK(r.error == "connection failed");
    }
}

TEST_CASE("track client over HTTPS: the sandbox certificate works only when trusted", "[cio]") {
    test::TempDir dir;
    const auto cert = test::make_self_signed(dir.path(), "sandbox");
    LocalServer server(
        [](const httplib::Request&, httplib::Response& res) {
            res.set_content(R"({"url":"https://track.customer.io","region":"us",)"
                            R"("environment_id":7})",
                            "application/json");
        },
        cert.cert, cert.key);
    SystemClock clock;
    {
        net::CurlHttpClient http(net::CurlOptions{2000, 1000, "", ""});
        TrackClient client(http, {server.url()}, {"site", "key"}, clock);
        auto info = client.region();
        CHECK(info.call.outcome == Outcome::retryable);
        CHECK(info.call.error == "TLS certificate not trusted");
    }
    CHECK(server.seen().empty());
    {
        net::CurlHttpClient http(net::CurlOptions{2000, 1000, cert.cert.string(), ""});
        TrackClient client(http, {server.url()}, {"site", "key"}, clock);
        auto info = client.region();
        CHECK(info.call.outcome == Outcome::success);
        CHECK(info.region == "us");
        CHECK(info.environment_id == 7);
    }
    CHECK(server.seen().size() == 1);
}

TEST_CASE("track client: batch calls", "[cio][batch]") {
    Fixture f;
    const std::vector<Target> who{{"cio_id", "c1"}, {"cio_id", "c2"}, {"email", "a@example.com"}};

    SECTION("one POST /api/v2/batch carries every operation, typed") {
        auto r = f.client.batch("suppress", who);
        CHECK(r.call.outcome == Outcome::success);
        CHECK(r.refused.empty());
        REQUIRE(f.http.sent.size() == 1);
        const auto& post = f.http.sent[0];
        CHECK(post.method == "POST");
        CHECK(post.url == "https://track.customer.io/api/v2/batch");
        CHECK(header_of(post, "Authorization") == k_basic_site_key);
        const auto body = nlohmann::json::parse(post.body);
        REQUIRE(body["batch"].size() == 3);
        CHECK(body["batch"][0] == nlohmann::json({{"type", "person"},
                                                  {"action", "suppress"},
                                                  {"identifiers", {{"cio_id", "c1"}}}}));
        CHECK(body["batch"][2]["identifiers"] == nlohmann::json({{"email", "a@example.com"}}));
    }
    SECTION("a 207 names the refused operations; their messages are not kept") {
        f.http.script = {FakeHttp::reply(
            207, R"({"errors":[{"batch_index":2,"reason":"invalid","message":"a@example.com"}]})")};
        auto r = f.client.batch("delete", who);
        CHECK(r.call.http_status == 207);
        CHECK(r.refused == std::vector<std::size_t>{2});
        CHECK(!contains(r.call.error, "example.com"));
    }
    SECTION("a 207 that does not say which operations failed is retried") {
        for (const std::string body :
             {"{}", "not json", R"({"errors":[]})", R"({"errors":[{"batch_index":3}]})",
              R"({"errors":[{"batch_index":-1}]})", R"({"errors":[{"message":"x"}]})"}) {
            f.http.script = {FakeHttp::reply(207, body)};
            auto r = f.client.batch("delete", who);
            CHECK(r.call.outcome == Outcome::retryable);
            CHECK(r.refused.empty());
        }
    }
    SECTION("an error answer is said in lethe's words, never the body's") {
        f.http.script = {FakeHttp::reply(400, R"({"meta":{"error":"bad a@example.com"}})")};
        auto r = f.client.batch("suppress", who);
        CHECK(r.call.outcome == Outcome::permanent);
        CHECK(r.call.error == "HTTP 400");
        f.http.script = {FakeHttp::reply(503)};
        CHECK(f.client.batch("suppress", who).call.outcome == Outcome::retryable);
    }
    SECTION("an empty identifier is refused unsent; 0 or 101 operations are a programming error") {
        auto r = f.client.batch("suppress", {{"cio_id", "c1"}, {"id", ""}});
        CHECK(r.call.outcome == Outcome::permanent);
        CHECK(f.http.sent.empty());
        CHECK_THROWS_AS(f.client.batch("suppress", {}), std::invalid_argument);
        CHECK_THROWS_AS(
            f.client.batch("suppress", std::vector<Target>(k_max_batch_operations + 1, who[0])),
            std::invalid_argument);
    }
}
