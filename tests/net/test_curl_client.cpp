#include "lethe_version.h"
#include "local_server.hpp"
#include "net/curl_client.hpp"
#include "support/tempdir.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <sys/stat.h>
#include <thread>

using namespace lethe;
using lethe::net::CurlHttpClient;
using lethe::net::CurlOptions;
using lethe::net::HttpRequest;
using lethe::test::LocalServer;

namespace {

CurlOptions fast_options() {
    CurlOptions o;
    o.timeout_ms = 2000;
    o.connect_timeout_ms = 1000;
    return o;
}

HttpRequest request(std::string method, std::string url, std::string body = {}) {
    HttpRequest r;
    r.method = std::move(method);
    r.url = std::move(url);
    r.body = std::move(body);
    return r;
}

void answer_ok(const httplib::Request&, httplib::Response& res) {
    res.set_header("X-Test", "  yes  ");
    res.set_content("{}", "application/json");
}

} // namespace

TEST_CASE("curl client: GET returns status, body and lower-cased headers", "[net]") {
    LocalServer server(answer_ok);
    CurlHttpClient http(fast_options());
    auto res = http.perform(request("GET", server.url() + "/hello"));
    REQUIRE(res.transport_error.empty());
    CHECK(res.status == 200);
    CHECK(res.body == "{}");
    CHECK(!res.timed_out);
    CHECK(res.latency_ms >= 0);
    CHECK(res.header("x-test") == std::optional<std::string>("yes"));
    CHECK(res.header("X-Test") == std::optional<std::string>("yes"));
    CHECK(res.header("content-type") == std::optional<std::string>("application/json"));
    CHECK(!res.header("retry-after").has_value());
    for (const auto& [name, value] : res.headers) {
        CHECK(name == to_lower(name));
    }
    auto seen = server.seen();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].method == "GET");
    CHECK(seen[0].target == "/hello");
    CHECK(seen[0].header("User-Agent") == std::string("lethe/") + LETHE_VERSION);
}

TEST_CASE("curl client: methods, bodies and headers reach the server as given", "[net]") {
    LocalServer server(answer_ok);
    CurlHttpClient http(fast_options());

    auto post = request("POST", server.url() + "/api/v1/customers/a%2Fb/suppress", "{}");
    post.headers = {{"Content-Type", "application/json"}, {"X-Extra", "1"}};
    CHECK(http.perform(post).status == 200);
    CHECK(http.perform(request("DELETE", server.url() + "/api/v1/customers/a%2Fb")).status == 200);
    // A GET after a POST on the same handle must not carry the old body or method.
    CHECK(http.perform(request("GET", server.url() + "/after")).status == 200);

    auto seen = server.seen();
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].method == "POST");
    CHECK(seen[0].target == "/api/v1/customers/a%2Fb/suppress");
    CHECK(seen[0].body == "{}");
    CHECK(seen[0].header("Content-Type") == "application/json");
    CHECK(seen[0].header("X-Extra") == "1");
    CHECK(seen[0].header("Expect").empty());
    CHECK(seen[1].method == "DELETE");
    CHECK(seen[1].target == "/api/v1/customers/a%2Fb");
    CHECK(seen[1].body.empty());
    CHECK(seen[1].header("X-Extra").empty());
    CHECK(seen[2].method == "GET");
    CHECK(seen[2].body.empty());
}

TEST_CASE("curl client: the configured User-Agent is sent", "[net]") {
    LocalServer server(answer_ok);
    auto options = fast_options();
    options.user_agent = "lethe-test/1";
    CurlHttpClient http(options);
    CHECK(http.perform(request("GET", server.url() + "/")).status == 200);
    CHECK(server.seen().at(0).header("User-Agent") == "lethe-test/1");
}

TEST_CASE("curl client: consecutive calls reuse one kept-alive connection", "[net]") {
    LocalServer server(answer_ok);
    CurlHttpClient http(fast_options());
    CHECK(http.perform(request("POST", server.url() + "/one", "{}")).status == 200);
    CHECK(http.perform(request("DELETE", server.url() + "/two")).status == 200);
    CHECK(http.perform(request("GET", server.url() + "/three")).status == 200);
    auto seen = server.seen();
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].remote_port == seen[1].remote_port);
    CHECK(seen[1].remote_port == seen[2].remote_port);
}

TEST_CASE("curl client: a slow server gives a timeout", "[net]") {
    LocalServer server([](const httplib::Request&, httplib::Response& res) {
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        res.set_content("{}", "application/json");
    });
    auto options = fast_options();
    options.timeout_ms = 100;
    CurlHttpClient http(options);
    auto res = http.perform(request("POST", server.url() + "/api/v1/customers/secret-id", "{}"));
    CHECK(res.status == 0);
    CHECK(res.timed_out);
    CHECK(res.transport_error == "timeout");
    CHECK(res.latency_ms < 400);
}

TEST_CASE("curl client: a refused connection is a transport error without the URL", "[net]") {
    CurlHttpClient http(fast_options());
    const std::string url = "http://127.0.0.1:" + std::to_string(test::closed_port()) +
                            "/api/v1/customers/secret-id/suppress";
    auto res = http.perform(request("POST", url, "{}"));
    CHECK(res.status == 0);
    CHECK(!res.timed_out);
    CHECK(res.transport_error == "connection failed");
    CHECK(res.transport_error.find("secret-id") == std::string::npos);
    CHECK(res.transport_error.find("127.0.0.1") == std::string::npos);
}

TEST_CASE("curl client: redirects are returned, never followed", "[net]") {
    LocalServer server([](const httplib::Request& req, httplib::Response& res) {
        if (req.path == "/start") {
            res.status = 307;
            res.set_header("Location", "/elsewhere");
        } else {
            res.set_content("{}", "application/json");
        }
    });
    CurlHttpClient http(fast_options());
    auto res = http.perform(request("POST", server.url() + "/start", "{}"));
    CHECK(res.status == 307);
    CHECK(res.header("location") == std::optional<std::string>("/elsewhere"));
    REQUIRE(server.seen().size() == 1);
}

TEST_CASE("curl client: unsafe requests are refused before anything is sent", "[net]") {
    LocalServer server(answer_ok);
    CurlHttpClient http(fast_options());

    auto injected = request("GET", server.url() + "/");
    injected.headers = {{"X-Evil", "a\r\nX-Injected: 1"}};
    CHECK(http.perform(injected).transport_error == "invalid request header");

    auto bad_name = request("GET", server.url() + "/");
    bad_name.headers = {{"X Evil", "1"}};
    CHECK(http.perform(bad_name).transport_error == "invalid request header");

    CHECK(http.perform(request("GET\r\nX: 1", server.url() + "/")).transport_error ==
          "invalid request method");
    CHECK(server.seen().empty());

    auto file = http.perform(request("GET", "file:///etc/passwd"));
    CHECK(file.status == 0);
    CHECK(file.body.empty());
    CHECK(file.transport_error == "unsupported URL scheme");
    auto ftp = http.perform(request("GET", "ftp://127.0.0.1/"));
    CHECK(ftp.status == 0);
    CHECK(!ftp.transport_error.empty());
}

TEST_CASE("curl client: an oversized response is refused", "[net]") {
    LocalServer server([](const httplib::Request&, httplib::Response& res) {
        res.set_content(std::string(3u << 20, 'x'), "text/plain");
    });
    CurlHttpClient http(fast_options());
    auto res = http.perform(request("GET", server.url() + "/big"));
    CHECK(res.status == 0);
    CHECK(res.body.empty());
    CHECK(res.transport_error == "response too large");
}

TEST_CASE("curl client: TLS is verified; ca_file adds a trust anchor", "[net]") {
    test::TempDir dir;
    const auto cert = test::make_self_signed(dir.path(), "sandbox");
    const auto other = test::make_self_signed(dir.path(), "other");
    LocalServer server(answer_ok, cert.cert, cert.key);
    const std::string url = server.url() + "/api/v1/accounts/region";
    REQUIRE(url.starts_with("https://127.0.0.1:"));

    SECTION("system store only: the self-signed certificate is refused") {
        CurlHttpClient http(fast_options());
        auto res = http.perform(request("GET", url));
        CHECK(res.status == 0);
        CHECK(res.transport_error == "TLS certificate not trusted");
        CHECK(server.seen().empty());
    }
    SECTION("with ca_file naming it: accepted, and kept alive") {
        auto options = fast_options();
        options.ca_file = cert.cert.string();
        CurlHttpClient http(options);
        auto first = http.perform(request("GET", url));
        CHECK(first.transport_error.empty());
        CHECK(first.status == 200);
        CHECK(http.perform(request("GET", url)).status == 200);
        auto seen = server.seen();
        REQUIRE(seen.size() == 2);
        CHECK(seen[0].remote_port == seen[1].remote_port);
    }
    SECTION("with ca_file naming another certificate: refused") {
        auto options = fast_options();
        options.ca_file = other.cert.string();
        CurlHttpClient http(options);
        auto res = http.perform(request("GET", url));
        CHECK(res.status == 0);
        CHECK(res.transport_error == "TLS certificate not trusted");
        CHECK(server.seen().empty());
    }
}

TEST_CASE("curl client: a trusted certificate for another host name is refused", "[net]") {
    test::TempDir dir;
    const auto cert = test::make_self_signed(dir.path(), "wrong", "DNS:other.example");
    LocalServer server(answer_ok, cert.cert, cert.key);
    auto options = fast_options();
    options.ca_file = cert.cert.string();
    CurlHttpClient http(options);
    auto res = http.perform(request("GET", server.url() + "/"));
    CHECK(res.status == 0);
    CHECK(res.transport_error == "TLS certificate not trusted");
    CHECK(server.seen().empty());
}

TEST_CASE("curl client: an unusable ca_file is a configuration error", "[net]") {
    test::TempDir dir;
    auto options = fast_options();
    options.ca_file = (dir / "missing.pem").string();
    CHECK_THROWS_AS(CurlHttpClient(options), ConfigError);
    test::write_text(dir / "junk.pem", "not a certificate\n");
    options.ca_file = (dir / "junk.pem").string();
    CHECK_THROWS_AS(CurlHttpClient(options), ConfigError);
    // A FIFO or a device is refused by type at once, not waited on or read without end.
    REQUIRE(::mkfifo((dir / "fifo.pem").c_str(), 0600) == 0);
    options.ca_file = (dir / "fifo.pem").string();
    CHECK_THROWS_WITH(CurlHttpClient(options),
                      "ca_file " + options.ca_file + ": is a FIFO, not a regular file");
    options.ca_file = "/dev/zero";
    CHECK_THROWS_WITH(CurlHttpClient(options),
                      "ca_file /dev/zero: is a character device, not a regular file");
}
