#include "cio/pin.hpp"

#include "util/strings.hpp"

namespace lethe::cio {
namespace {

// scheme://host[:port] in a canonical form (lower case, default port dropped), and whether a
// path other than "/" followed it.
struct Origin {
    std::string text;
    bool has_path = false;
};

std::optional<Origin> origin_of(std::string_view url) {
    const auto sep = url.find("://");
    if (sep == std::string_view::npos || sep == 0) {
        return std::nullopt;
    }
    const std::string scheme = to_lower(url.substr(0, sep));
    if (scheme != "http" && scheme != "https") {
        return std::nullopt;
    }
    std::string_view after = url.substr(sep + 3);
    const auto end = after.find_first_of("/?#");
    std::string authority = to_lower(after.substr(0, end));
    std::string_view rest = end == std::string_view::npos ? std::string_view{} : after.substr(end);
    if (authority.empty() || authority.find('@') != std::string::npos) {
        return std::nullopt;
    }
    const std::string default_port = scheme == "https" ? ":443" : ":80";
    const auto close = authority.rfind(']');
    const auto colon = authority.rfind(':');
    if (colon != std::string::npos && (close == std::string::npos || colon > close) &&
        authority.substr(colon) == default_port) {
        authority.resize(colon);
    }
    while (rest.ends_with('/')) {
        rest.remove_suffix(1);
    }
    return Origin{scheme + "://" + authority, !rest.empty()};
}

// Remote text (the answer's url and region) made fit for one line of output.
std::string shown(std::string_view remote) {
    std::string out;
    for (char ch : remote.substr(0, 120)) {
        const auto c = static_cast<unsigned char>(ch);
        out.push_back(c < 0x20 || c == 0x7f ? '?' : ch);
    }
    return remote.size() > 120 ? out + "..." : out;
}

PinCheck failed(PinStatus status, std::string message) {
    return {status, std::move(message)};
}

} // namespace

std::string_view to_text(PinStatus status) {
    switch (status) {
    case PinStatus::ok:
        return "ok";
    case PinStatus::credentials_refused:
        return "credentials_refused";
    case PinStatus::unreachable:
        return "unreachable";
    case PinStatus::environment_mismatch:
        return "environment_mismatch";
    case PinStatus::region_mismatch:
        return "region_mismatch";
    case PinStatus::url_mismatch:
        return "url_mismatch";
    }
    return "unknown";
}

PinCheck check_pin(const RegionInfo& answer, const PinExpectation& expected) {
    const CallResult& call = answer.call;
    if (call.outcome == Outcome::auth) {
        return failed(PinStatus::credentials_refused, "Customer.io refused the credentials (HTTP " +
                                                          std::to_string(call.http_status) +
                                                          "): check site_id and the Track API key");
    }
    if (call.outcome == Outcome::halt) {
        // Only a redirect ends a call with halt: the host asked to be left for another one, and
        // that is never followed silently (nor at all outside customer.io).
        return failed(PinStatus::url_mismatch,
                      expected.track_url + " did not answer itself: " + call.error +
                          "; set track_url (and region) to the workspace's own host");
    }
    if (call.outcome != Outcome::success) {
        return failed(PinStatus::unreachable, "cannot reach " + expected.track_url + ": " +
                                                  (call.error.empty() ? "no answer" : call.error));
    }
    if (expected.environment_id && answer.environment_id != *expected.environment_id) {
        return failed(PinStatus::environment_mismatch,
                      "the Track API key belongs to environment " +
                          std::to_string(answer.environment_id) + ", not " +
                          std::to_string(*expected.environment_id) +
                          " (a key of another workspace, or the wrong environment_id)");
    }
    if (answer.region != expected.region) {
        return failed(PinStatus::region_mismatch, "the workspace is in region \"" +
                                                      shown(answer.region) + "\" but region is \"" +
                                                      expected.region + "\"; set region = \"" +
                                                      shown(answer.region) + "\"");
    }
    const auto configured = origin_of(expected.track_url);
    if (!configured) {
        return failed(PinStatus::url_mismatch,
                      "track_url " + expected.track_url + " is not an http(s) URL");
    }
    if (!answer.answered_by.empty()) {
        const auto answered = origin_of(answer.answered_by);
        if (!answered || answered->text != configured->text) {
            return failed(PinStatus::url_mismatch,
                          expected.track_url + " redirected to " + shown(answer.answered_by) +
                              "; set track_url to the workspace's own host");
        }
    }
    const auto reported = origin_of(answer.url);
    if (!reported || reported->has_path || reported->text != configured->text) {
        return failed(PinStatus::url_mismatch,
                      "the workspace's Track API is " + shown(answer.url) + ", not " +
                          configured->text + "; set track_url = \"" + shown(answer.url) + "\"");
    }
    return {PinStatus::ok, {}};
}

} // namespace lethe::cio
