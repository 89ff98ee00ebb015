#include "cio/pin.hpp"

#include <catch2/catch.hpp>

using namespace lethe::cio;

namespace {

RegionInfo answer(std::string url, std::string region, long long environment,
                  std::string answered_by = {}) {
    RegionInfo info;
    info.call.outcome = Outcome::success;
    info.call.http_status = 200;
    info.url = std::move(url);
    info.region = std::move(region);
    info.environment_id = environment;
    info.answered_by = std::move(answered_by);
    return info;
}

const PinExpectation k_us{"us", 101, "https://track.customer.io"};

} // namespace

TEST_CASE("pin check: the key answers for the configured workspace", "[cio][pin]") {
    auto ok = check_pin(answer("https://track.customer.io", "us", 101, "https://track.customer.io"),
                        k_us);
    CHECK(ok.status == PinStatus::ok);
    CHECK(ok.message.empty());
    // Trailing '/', host case and the default port do not matter.
    CHECK(
        check_pin(answer("https://Track.Customer.IO/", "us", 101, "https://track.customer.io:443"),
                  {"us", 101, "https://track.customer.io/"})
            .status == PinStatus::ok);
    // A path prefix on track_url (a proxy) is not part of the comparison.
    CHECK(check_pin(answer("http://127.0.0.1:8099", "eu", 7, "http://127.0.0.1:8099"),
                    {"eu", 7, "http://127.0.0.1:8099/prefix"})
              .status == PinStatus::ok);
    // No environment pinned (legacy [customerio]): any environment passes.
    CHECK(check_pin(answer("https://track.customer.io", "us", 555),
                    {"us", std::nullopt, "https://track.customer.io"})
              .status == PinStatus::ok);
}

TEST_CASE("pin check: refused and unreachable", "[cio][pin]") {
    RegionInfo refused;
    refused.call.outcome = Outcome::auth;
    refused.call.http_status = 401;
    auto r = check_pin(refused, k_us);
    CHECK(r.status == PinStatus::credentials_refused);
    CHECK(r.message ==
          "Customer.io refused the credentials (HTTP 401): check site_id and the Track API key");

    RegionInfo down;
    down.call.outcome = Outcome::retryable;
    down.call.error = "connection failed";
    r = check_pin(down, k_us);
    CHECK(r.status == PinStatus::unreachable);
    CHECK(r.message == "cannot reach https://track.customer.io: connection failed");

    RegionInfo odd;
    odd.call.outcome = Outcome::permanent;
    odd.call.http_status = 200;
    odd.call.error = "HTTP 200: unexpected body for the region check";
    CHECK(check_pin(odd, k_us).status == PinStatus::unreachable);
}

TEST_CASE("pin check: another workspace's key, region or host", "[cio][pin]") {
    auto env = check_pin(answer("https://track.customer.io", "us", 202), k_us);
    CHECK(env.status == PinStatus::environment_mismatch);
    CHECK(env.message == "the Track API key belongs to environment 202, not 101 (a key of "
                         "another workspace, or the wrong environment_id)");

    auto region = check_pin(answer("https://track.customer.io", "eu", 101), k_us);
    CHECK(region.status == PinStatus::region_mismatch);
    CHECK(region.message ==
          "the workspace is in region \"eu\" but region is \"us\"; set region = \"eu\"");

    auto url = check_pin(answer("https://track-eu.customer.io", "us", 101), k_us);
    CHECK(url.status == PinStatus::url_mismatch);
    CHECK(url.message == "the workspace's Track API is https://track-eu.customer.io, not "
                         "https://track.customer.io; set track_url = "
                         "\"https://track-eu.customer.io\"");
    CHECK(check_pin(answer("https://track.customer.io:8443", "us", 101), k_us).status ==
          PinStatus::url_mismatch);
    CHECK(check_pin(answer("https://track.customer.io/api", "us", 101), k_us).status ==
          PinStatus::url_mismatch);
    CHECK(check_pin(answer("http://track.customer.io", "us", 101), k_us).status ==
          PinStatus::url_mismatch);
    CHECK(check_pin(answer("", "us", 101), k_us).status == PinStatus::url_mismatch);
    // Remote text is shown only in a form lethe knows: a known region, a URL's origin of host
    // characters; anything else is named, not quoted.
    auto shown = check_pin(answer("https://x\n.example", "us", 101), k_us);
    CHECK(shown.message.find('\n') == std::string::npos);
    auto quoted =
        check_pin(answer("https://a%40b.example/x?who=jane@example.com", "us", 101), k_us);
    CHECK(quoted.status == PinStatus::url_mismatch);
    CHECK(quoted.message == "the workspace's Track API is a URL lethe does not show, not "
                            "https://track.customer.io");
    auto with_path = check_pin(answer("https://track-eu.customer.io/jane&#64;x", "us", 101), k_us);
    CHECK(with_path.message.find("jane") == std::string::npos);
    auto odd_region =
        check_pin(answer("https://track.customer.io", "jane%40example.com", 101), k_us);
    CHECK(odd_region.status == PinStatus::region_mismatch);
    CHECK(odd_region.message ==
          "the workspace's region is not \"us\" nor one lethe knows (us, eu)");
}

TEST_CASE("pin check: a redirect to another host never passes", "[cio][pin]") {
    // Followed within customer.io, the answer came from track-eu even if it named track.
    auto followed = check_pin(
        answer("https://track.customer.io", "us", 101, "https://track-eu.customer.io"), k_us);
    CHECK(followed.status == PinStatus::url_mismatch);
    CHECK(followed.message == "https://track.customer.io redirected to "
                              "https://track-eu.customer.io; set track_url to the workspace's own "
                              "host");
    // Refused (outside customer.io, or not https): the call ends with halt.
    RegionInfo refused;
    refused.call.outcome = Outcome::halt;
    refused.call.http_status = 302;
    refused.call.error = "redirect to a host outside customer.io refused (evil.example)";
    auto r = check_pin(refused, k_us);
    CHECK(r.status == PinStatus::url_mismatch);
    CHECK(r.message.find("evil.example") != std::string::npos);
}
