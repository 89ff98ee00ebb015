#include "serve/server.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

using namespace lethe;
using namespace lethe::serve;
using nlohmann::json;

namespace {

class NoSink final : public RequestSink {
public:
    Admitted admit(const intake::RawRequest&, const SenderIdentity&) override { return {}; }
};

class NoReader final : public RequestReader {
public:
    std::optional<store::RequestView> find(std::string_view, std::string_view) override {
        return std::nullopt;
    }
};

class FixedStatus final : public StatusSource {
public:
    Health health() override { return {true, ""}; }
    MetricsSnapshot metrics() override { return {}; }
};

struct RoutesFixture {
    FakeClock clock{1795348800000};
    SenderRing keys = SenderRing::single({"routes-secret"});
    NoSink sink;
    NoReader reader;
    FixedStatus status;
    IntakeHandler handler{keys, sink, reader, clock, 4096};
    ServerSettings settings = [] {
        ServerSettings s;
        s.address = *net::parse_listen_address("127.0.0.1:0");
        s.max_body_bytes = 4096;
        return s;
    }();
    IntakeServer server{settings, handler, status};

    static RequestHead head(std::string method, std::string path,
                            std::map<std::string, std::string> headers = {}) {
        RequestHead h;
        h.method = std::move(method);
        h.path = std::move(path);
        for (auto& [k, v] : headers) {
            h.headers.emplace(k, v);
        }
        return h;
    }
};

} // namespace

TEST_CASE("intake routes refuse before the body: 404, 405, 415, 413", "[serve][server]") {
    RoutesFixture f;
    auto r = f.server.before_body(f.head("GET", "/nothing"));
    REQUIRE(r);
    CHECK(r->status == 404);
    CHECK(json::parse(r->body)["status"] == "not_found");

    r = f.server.before_body(f.head("GET", "/v1/erasure-requests"));
    REQUIRE(r);
    CHECK(r->status == 405);
    CHECK(r->headers == std::vector<std::pair<std::string, std::string>>{{"Allow", "POST"}});
    r = f.server.before_body(f.head("POST", "/healthz"));
    REQUIRE(r);
    CHECK(r->status == 405);

    CHECK_FALSE(f.server.before_body(f.head("GET", "/healthz")));
    CHECK_FALSE(f.server.before_body(f.head("HEAD", "/metrics")));
    CHECK_FALSE(f.server.before_body(f.head("POST", "/v1/erasure-requests")));
    CHECK_FALSE(f.server.before_body(
        f.head("POST", "/v1/erasure-requests", {{"content-encoding", " Identity "}})));
    CHECK_FALSE(
        f.server.before_body(f.head("POST", "/v1/erasure-requests", {{"Content-Length", "4096"}})));
    CHECK_FALSE(f.server.before_body(
        f.head("POST", "/v1/erasure-requests", {{"Transfer-Encoding", "chunked"}})));

    for (const char* encoding : {"br", "gzip", "x-gzip", "identity, gzip"}) {
        INFO(encoding);
        r = f.server.before_body(
            f.head("POST", "/v1/erasure-requests", {{"Content-Encoding", encoding}}));
        REQUIRE(r);
        CHECK(r->status == 415);
        CHECK(r->close);
    }
    r = f.server.before_body(
        f.head("POST", "/v1/erasure-requests", {{"Transfer-Encoding", "gzip, chunked"}}));
    REQUIRE(r);
    CHECK(r->status == 415);

    for (const char* length : {"4097", "1073741824", "99999999999999999999999999"}) {
        INFO(length);
        r = f.server.before_body(
            f.head("POST", "/v1/erasure-requests", {{"Content-Length", length}}));
        REQUIRE(r);
        CHECK(r->status == 413);
        CHECK(json::parse(r->body)["reason"] == "body is larger than 4096 bytes");
        CHECK(r->close);
    }
}

TEST_CASE("the daemon serves the routes on 127.0.0.1 and stops with a client connected",
          "[serve][server]") {
    RoutesFixture f;
    const std::string url = f.server.bind();
    REQUIRE(url.rfind("http://127.0.0.1:", 0) == 0);
    httplib::Client c(url);
    auto r = c.Get("/healthz");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == R"({"status":"ok"})");
    CHECK(r->get_header_value("Content-Type") == "application/json");
    r = c.Get("/metrics");
    REQUIRE(r);
    CHECK(r->get_header_value("Content-Type") == k_metrics_content_type);
    r = c.Post("/v1/erasure-requests", "{}", "application/json");
    REQUIRE(r);
    CHECK(r->status == 401);
    r = c.Delete("/metrics");
    REQUIRE(r);
    CHECK(r->status == 405);
    CHECK(r->get_header_value("Allow") == "GET, HEAD");

    // A keep-alive client still connected does not hold up the stop.
    const auto start = std::chrono::steady_clock::now();
    f.server.stop();
    f.server.run();
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
}
