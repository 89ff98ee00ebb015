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

// Remote text reaches the log only when it has a form lethe knows (invariant 9, an allowlist):
// a region from Customer.io's list, a URL as its origin made of host characters.
std::optional<std::string> known_region(std::string_view remote) {
    for (std::string_view known : {"us", "eu"}) {
        if (remote == known) {
            return std::string(known);
        }
    }
    return std::nullopt;
}

std::optional<std::string> showable_origin(std::string_view remote) {
    const auto origin = origin_of(remote);
    if (!origin) {
        return std::nullopt;
    }
    const auto authority = std::string_view(origin->text).substr(origin->text.find("://") + 3);
    if (authority.size() > 255) {
        return std::nullopt;
    }
    for (char ch : authority) {
        const bool host_char = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                               ch == '-' || ch == ':' || ch == '[' || ch == ']';
        if (!host_char) {
            return std::nullopt;
        }
    }
    return origin->text;
}

std::string shown_url(std::string_view remote) {
    return showable_origin(remote).value_or("a URL lethe does not show");
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
        const auto region = known_region(answer.region);
        return failed(PinStatus::region_mismatch,
                      region ? "the workspace is in region \"" + *region + "\" but region is \"" +
                                   expected.region + "\"; set region = \"" + *region + "\""
                             : "the workspace's region is not \"" + expected.region +
                                   "\" nor one lethe knows (us, eu)");
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
                          expected.track_url + " redirected to " + shown_url(answer.answered_by) +
                              "; set track_url to the workspace's own host");
        }
    }
    const auto reported = origin_of(answer.url);
    if (!reported || reported->has_path || reported->text != configured->text) {
        const auto shown = showable_origin(answer.url);
        return failed(PinStatus::url_mismatch,
                      "the workspace's Track API is " +
                          shown.value_or("a URL lethe does not show") + ", not " +
                          configured->text +
                          (shown ? "; set track_url = \"" + *shown + "\"" : std::string{}));
    }
    return {PinStatus::ok, {}};
}

} // namespace lethe::cio
