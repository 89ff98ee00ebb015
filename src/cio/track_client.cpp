#include "cio/track_client.hpp"

#include "crypto/crypto.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

namespace lethe::cio {
namespace {

constexpr int k_max_redirects = 3;
constexpr std::size_t k_max_error_text = 200;

bool has_control_or_space(std::string_view s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) {
            return true;
        }
    }
    return false;
}

// An absolute http(s) URL taken apart just far enough to apply the host policy.
struct Url {
    std::string scheme;    // lower case
    std::string authority; // host[:port] as written
    std::string host;      // lower case; IPv6 literals keep their brackets
    std::string rest;      // path and query; the fragment is dropped
};

std::optional<Url> parse_url(std::string_view text) {
    if (text.empty() || has_control_or_space(text)) {
        return std::nullopt;
    }
    const auto sep = text.find("://");
    if (sep == std::string_view::npos || sep == 0) {
        return std::nullopt;
    }
    Url url;
    url.scheme = to_lower(text.substr(0, sep));
    if (url.scheme != "http" && url.scheme != "https") {
        return std::nullopt;
    }
    std::string_view after = text.substr(sep + 3);
    const auto end = after.find_first_of("/?#");
    const std::string_view authority = after.substr(0, end);
    std::string_view rest = end == std::string_view::npos ? std::string_view{} : after.substr(end);
    rest = rest.substr(0, rest.find('#'));
    // User info is refused outright: "https://track.customer.io@evil.example/" is the classic
    // way to make a foreign host look like ours.
    if (authority.empty() || authority.find('@') != std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view host = authority;
    std::string_view port;
    if (authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        host = authority.substr(0, close + 1);
        std::string_view tail = authority.substr(close + 1);
        if (!tail.empty()) {
            if (tail.front() != ':') {
                return std::nullopt;
            }
            port = tail.substr(1);
            if (port.empty()) {
                return std::nullopt;
            }
        }
    } else if (const auto colon = authority.find(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
        if (port.empty()) {
            return std::nullopt;
        }
    }
    if (host.empty() || host == "[]") {
        return std::nullopt;
    }
    if (!port.empty()) {
        const auto n = parse_int64(port);
        if (!n || *n < 1 || *n > 65535) {
            return std::nullopt;
        }
    }
    url.authority = std::string(authority);
    url.host = to_lower(host);
    url.rest = std::string(rest);
    return url;
}

// Resolves a Location header against the URL that answered. Only absolute URLs, scheme-relative
// ("//host/...") and absolute-path ("/...") forms are accepted; a relative path is so unusual
// for an API that refusing it is safer than guessing.
std::optional<Url> resolve_location(const Url& base, std::string_view location) {
    location = trim(location);
    if (location.starts_with("//")) {
        return parse_url(base.scheme + ":" + std::string(location));
    }
    if (location.starts_with("/")) {
        return parse_url(base.scheme + "://" + base.authority + std::string(location));
    }
    return parse_url(location);
}

bool is_redirect(long status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// The host may be shown in errors (it names no person), but only when it is a plain name: a
// header can carry anything.
std::string printable_host(std::string_view host) {
    if (host.empty() || host.size() > 253) {
        return {};
    }
    for (char c : host) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                        c == ':' || c == '[' || c == ']';
        if (!ok) {
            return {};
        }
    }
    return " (" + std::string(host) + ")";
}

// "meta.error", or the "meta.errors" list joined with "; "; empty when the body says neither.
std::string api_error_text(const std::string& body) {
    if (body.empty()) {
        return {};
    }
    const auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
        return {};
    }
    // {"meta": {"error" | "errors"}}, or Track API v2's top-level {"errors": [...]}.
    const auto meta_at = json.find("meta");
    const nlohmann::json& meta = meta_at != json.end() && meta_at->is_object() ? *meta_at : json;
    if (const auto error = meta.find("error"); error != meta.end() && error->is_string()) {
        return error->get<std::string>();
    }
    std::string text;
    if (const auto errors = meta.find("errors"); errors != meta.end() && errors->is_array()) {
        for (const auto& item : *errors) {
            std::string one;
            if (item.is_string()) {
                one = item.get<std::string>();
            } else if (item.is_object()) {
                for (const char* key : {"message", "detail", "title", "reason"}) {
                    if (const auto f = item.find(key); f != item.end() && f->is_string()) {
                        one = f->get<std::string>();
                        break;
                    }
                }
            }
            if (!one.empty()) {
                text += text.empty() ? "" : "; ";
                text += one;
            }
            if (text.size() > 4 * k_max_error_text) {
                break;
            }
        }
    }
    return text;
}

bool says(const std::string& folded, std::initializer_list<std::string_view> phrases) {
    return std::any_of(phrases.begin(), phrases.end(),
                       [&](std::string_view p) { return folded.find(p) != std::string::npos; });
}

void set_status_error(CallResult& r, long status, const std::string& body) {
    r.reason = classify_api_error(status, body);
    r.error = "HTTP " + std::to_string(status);
    if (r.reason != ApiReason::none) {
        r.error += ": ";
        r.error += to_text(r.reason);
    }
}

// "." and ".." are unreserved, so they would go out unencoded and be read as dot segments
// (".../customers/.." is "/api/v1"): a destroy could hit another resource and a 404 there would
// look like success. Such identifiers are refused instead.
bool addressable(std::string_view identifier) {
    return !identifier.empty() && identifier != "." && identifier != "..";
}

CallResult refused_identifier() {
    CallResult r;
    r.outcome = Outcome::permanent;
    r.error = "identifier cannot be used in a URL path";
    return r;
}

} // namespace

void validate_endpoint(const Endpoint& endpoint, std::string_view key_name) {
    const std::string key = std::string(key_name) + ": ";
    const auto url = parse_url(endpoint.track_url);
    if (!url) {
        throw ConfigError(key + "not an http(s) URL with a host (and no user info or spaces)");
    }
    if (url->rest.find('?') != std::string::npos ||
        endpoint.track_url.find('#') != std::string::npos) {
        throw ConfigError(key + "must not have a query or fragment");
    }
    if (url->scheme == "https") {
        return;
    }
    const bool loopback = url->host == "127.0.0.1" || url->host == "[::1]";
    if (!loopback) {
        throw ConfigError(key + "must use https:// (http:// is only allowed for 127.0.0.1 or "
                                "[::1] with allow_insecure_loopback)");
    }
    if (!endpoint.allow_insecure_loopback) {
        throw ConfigError(key + "http:// to a loopback address needs allow_insecure_loopback = "
                                "true (meant for the sandbox)");
    }
}

std::string percent_encode(std::string_view identifier) {
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(identifier.size() * 3);
    for (char c : identifier) {
        const auto u = static_cast<unsigned char>(c);
        const bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
                                (u >= '0' && u <= '9') || u == '-' || u == '.' || u == '_' ||
                                u == '~';
        if (unreserved) {
            out += c;
        } else {
            out += '%';
            out += k_hex[u >> 4];
            out += k_hex[u & 0x0f];
        }
    }
    return out;
}

Outcome classify_status(long status) {
    if (status >= 200 && status < 300) {
        return Outcome::success;
    }
    if (status == 401 || status == 403) {
        return Outcome::auth;
    }
    if (status == 408 || status == 429) {
        return Outcome::retryable;
    }
    if (status >= 400 && status < 500) {
        return Outcome::permanent;
    }
    if (status >= 300 && status < 400) {
        // A redirect that reaches classification could not be followed: something between
        // lethe and Customer.io is not what the configuration says.
        return Outcome::halt;
    }
    // 5xx, and anything that is not a final HTTP status at all: try again later.
    return Outcome::retryable;
}

bool is_customerio_host(std::string_view host) {
    const std::string h = to_lower(host);
    constexpr std::string_view k_domain = "customer.io";
    if (h == k_domain) {
        return true;
    }
    if (h.size() <= k_domain.size() + 1 || !h.ends_with(".customer.io")) {
        return false;
    }
    // The labels in front must be plain DNS labels: no empty label ("..customer.io"), nothing
    // that a resolver or URL parser could read differently.
    const std::string_view prefix(h.data(), h.size() - k_domain.size() - 1);
    std::size_t label = 0;
    for (char c : prefix) {
        if (c == '.') {
            if (label == 0) {
                return false;
            }
            label = 0;
            continue;
        }
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok || ++label > 63) {
            return false;
        }
    }
    return label > 0;
}

TrackClient::TrackClient(net::HttpClient& http, Endpoint endpoint, Credentials credentials,
                         const Clock& clock)
    : m_http(http), m_endpoint(std::move(endpoint)), m_credentials(std::move(credentials)),
      m_clock(clock) {
    validate_endpoint(m_endpoint);
    m_base = m_endpoint.track_url;
    while (m_base.ends_with('/')) {
        m_base.pop_back();
    }
}

void TrackClient::set_credentials(Credentials credentials) {
    m_credentials = std::move(credentials);
}

TrackClient::Exchange TrackClient::send(const char* method, const std::string& path,
                                        std::string body) {
    net::HttpRequest req;
    req.method = method;
    req.url = m_base + path;
    req.headers.emplace_back(
        "Authorization",
        "Basic " + crypto::base64_encode(m_credentials.site_id + ":" + m_credentials.api_key));
    req.headers.emplace_back("Accept", "application/json");
    if (!body.empty()) {
        req.headers.emplace_back("Content-Type", "application/json");
    }
    req.body = std::move(body);

    Exchange ex;
    CallResult& r = ex.call;
    for (int hop = 0;; ++hop) {
        ex.response = m_http.perform(req);
        const net::HttpResponse& res = ex.response;
        r.latency_ms += res.latency_ms;
        r.http_status = res.status;
        if (res.status == 0) {
            r.outcome = Outcome::retryable;
            r.error = res.transport_error.empty() ? "network error" : res.transport_error;
            return ex;
        }
        if (!is_redirect(res.status)) {
            break;
        }
        const auto current = parse_url(req.url);
        const auto location = res.header("location");
        if (!location) {
            r.outcome = Outcome::halt;
            r.error = "HTTP " + std::to_string(res.status) + " without a Location";
            return ex;
        }
        // Decided before anything is sent there: the Authorization header must never reach a
        // host outside customer.io, nor travel in clear text.
        const auto target = current ? resolve_location(*current, *location) : std::nullopt;
        if (!target) {
            r.outcome = Outcome::halt;
            r.error = "redirect to an unusable Location refused";
            return ex;
        }
        if (!is_customerio_host(target->host)) {
            r.outcome = Outcome::halt;
            r.error =
                "redirect to a host outside customer.io refused" + printable_host(target->host);
            return ex;
        }
        if (target->scheme != "https") {
            r.outcome = Outcome::halt;
            r.error = "redirect to a non-https URL refused" + printable_host(target->host);
            return ex;
        }
        if (hop == k_max_redirects) {
            r.outcome = Outcome::halt;
            r.error = "too many redirects";
            return ex;
        }
        // Method and body are kept on every redirect code: suppress and destroy are idempotent,
        // and turning a POST into a GET (as browsers do on 301-303) would silently do nothing.
        req.url = target->scheme + "://" + target->authority + target->rest;
    }

    ex.final_url = req.url;
    const net::HttpResponse& res = ex.response;
    r.outcome = classify_status(res.status);
    if (r.outcome != Outcome::success) {
        set_status_error(r, res.status, res.body);
    }
    if (r.outcome == Outcome::retryable) {
        if (const auto value = res.header("retry-after")) {
            r.retry_after_ms = parse_retry_after(*value, m_clock.now_ms());
        }
    }
    return ex;
}

CallResult TrackClient::customer_call(const char* method, std::string_view identifier,
                                      const char* suffix, std::string body) {
    if (!addressable(identifier)) {
        return refused_identifier();
    }
    const std::string path = "/api/v1/customers/" + percent_encode(identifier) + suffix;
    return send(method, path, std::move(body)).call;
}

CallResult TrackClient::suppress(std::string_view identifier) {
    // The official clients (node, python) send an empty JSON object with this POST.
    return customer_call("POST", identifier, "/suppress", "{}");
}

CallResult TrackClient::destroy(std::string_view identifier) {
    CallResult r = customer_call("DELETE", identifier, "", "");
    if (r.http_status == 404 && r.outcome == Outcome::permanent) {
        r.outcome = Outcome::success;
        r.already_gone = true;
        r.error.clear();
        r.reason = ApiReason::none;
    }
    return r;
}

CallResult TrackClient::entity(std::string_view action, const Target& who) {
    if (who.value.empty()) {
        return refused_identifier();
    }
    const nlohmann::json body = {{"type", "person"},
                                 {"action", std::string(action)},
                                 {"identifiers", {{who.id_type, who.value}}}};
    return send("POST", "/api/v2/entity", body.dump()).call;
}

namespace {

// The refused operations of a 207 answer ({"errors": [{"batch_index": N, "reason", "message"}]});
// false when the body does not say which. The messages are not kept: they may quote identifiers.
bool read_refused(const std::string& body, std::size_t operations, std::vector<std::size_t>& out) {
    const auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded() || !json.is_object() || !json.contains("errors") ||
        !json["errors"].is_array() || json["errors"].empty()) {
        return false;
    }
    for (const auto& error : json["errors"]) {
        const auto index =
            error.is_object() ? error.value("batch_index", nlohmann::json()) : nlohmann::json();
        if (!index.is_number_unsigned() || index.get<std::size_t>() >= operations) {
            return false;
        }
        out.push_back(index.get<std::size_t>());
    }
    return true;
}

} // namespace

BatchResult TrackClient::batch(std::string_view action, const std::vector<Target>& who) {
    if (who.empty() || who.size() > k_max_batch_operations) {
        throw std::invalid_argument("TrackClient::batch: 1 to 100 operations");
    }
    BatchResult out;
    nlohmann::json operations = nlohmann::json::array();
    for (const auto& target : who) {
        if (target.value.empty()) {
            out.call = refused_identifier();
            return out;
        }
        operations.push_back({{"type", "person"},
                              {"action", std::string(action)},
                              {"identifiers", {{target.id_type, target.value}}}});
    }
    Exchange ex = send("POST", "/api/v2/batch", nlohmann::json({{"batch", operations}}).dump());
    out.call = std::move(ex.call);
    if (out.call.http_status == 207 && !read_refused(ex.response.body, who.size(), out.refused)) {
        out.refused.clear();
        out.call.outcome = Outcome::retryable;
        out.call.error = "HTTP 207 without the refused operations";
    }
    return out;
}

std::string_view to_text(ApiReason r) {
    switch (r) {
    case ApiReason::none:
        return "";
    case ApiReason::not_an_identifier:
        return "not an identifier of this workspace";
    case ApiReason::invalid_value:
        return "invalid value";
    case ApiReason::too_large:
        return "too large";
    case ApiReason::not_found:
        return "not found";
    }
    return "";
}

ApiReason classify_api_error(long status, const std::string& body) {
    if (status < 400 || status >= 500) {
        return ApiReason::none;
    }
    // Only the phrases are looked at; nothing of the text is kept.
    const std::string folded = to_lower(api_error_text(body));
    if (says(folded, {"not an identifier", "not a valid identifier type", "identifier type is not",
                      "is not enabled as an identifier"})) {
        return ApiReason::not_an_identifier;
    }
    if (says(folded, {"too large", "too long", "exceeds"})) {
        return ApiReason::too_large;
    }
    if (says(folded, {"not found", "does not exist"})) {
        return ApiReason::not_found;
    }
    if (says(folded, {"invalid", "not valid", "malformed", "must be"})) {
        return ApiReason::invalid_value;
    }
    return ApiReason::none;
}

RegionInfo TrackClient::region() {
    RegionInfo info;
    Exchange ex = send("GET", "/api/v1/accounts/region", "");
    info.call = std::move(ex.call);
    if (const auto final_url = parse_url(ex.final_url)) {
        info.answered_by = final_url->scheme + "://" + final_url->authority;
    }
    if (info.call.outcome != Outcome::success) {
        return info;
    }
    const auto json = nlohmann::json::parse(ex.response.body, nullptr, false);
    bool ok = !json.is_discarded() && json.is_object();
    if (ok) {
        const auto url = json.find("url");
        const auto region = json.find("region");
        const auto env = json.find("environment_id");
        ok = url != json.end() && url->is_string() && region != json.end() && region->is_string() &&
             env != json.end() && env->is_number_integer();
        if (ok) {
            info.url = url->get<std::string>();
            info.region = region->get<std::string>();
            info.environment_id = env->get<long long>();
        }
    }
    if (!ok) {
        info.call.outcome = Outcome::permanent;
        info.call.error = "HTTP " + std::to_string(info.call.http_status) +
                          ": unexpected body for the region check";
    }
    return info;
}

} // namespace lethe::cio
