#include "serve/server.hpp"

#include "crypto/crypto.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"

#include <charconv>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <strings.h>

namespace lethe::serve {
namespace {

constexpr const char* k_intake_path = "/v1/erasure-requests";

struct BioDeleter {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
    void operator()(X509* x) const { X509_free(x); }
};

HttpReply json(const Reply& reply) {
    HttpReply r;
    r.status = reply.status;
    r.body = reply.body;
    return r;
}

// Refusals made before the body is read close the connection: the unread body must not be taken
// for the next request.
HttpReply refusal(const Reply& reply) {
    HttpReply r = json(reply);
    r.close = true;
    return r;
}

std::string too_large_reason(std::int64_t max_body_bytes) {
    return "body is larger than " + std::to_string(max_body_bytes) + " bytes";
}

bool equals_caseless(std::string_view a, std::string_view b) {
    return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// PEM text of the certificate and key, checked to belong together, so that a broken pair is a
// configuration error with the file names rather than a TLS failure at the first client.
void load_tls(const ServerSettings& s, DaemonSettings& d) {
    if (s.tls_cert_file.empty()) {
        return;
    }
    const std::string problem = "intake.tls_cert_file/tls_key_file: cannot load " +
                                s.tls_cert_file + " and " + s.tls_key_file +
                                " (a PEM certificate and its private key)";
    d.tls_cert_pem = read_file(s.tls_cert_file, FileKind::certificate);
    d.tls_key_pem = read_file(s.tls_key_file, FileKind::secret);
    std::unique_ptr<BIO, BioDeleter> cert_bio(
        BIO_new_mem_buf(d.tls_cert_pem.data(), static_cast<int>(d.tls_cert_pem.size())));
    std::unique_ptr<BIO, BioDeleter> key_bio(
        BIO_new_mem_buf(d.tls_key_pem.data(), static_cast<int>(d.tls_key_pem.size())));
    if (!cert_bio || !key_bio) {
        throw ConfigError(problem);
    }
    std::unique_ptr<X509, X509Deleter> cert(
        PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    crypto::EvpPkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    if (!cert || !key || X509_check_private_key(cert.get(), key.get()) != 1) {
        throw ConfigError(problem);
    }
}

DaemonSettings daemon_settings(const ServerSettings& s) {
    DaemonSettings d;
    d.address = s.address;
    d.max_body_bytes = static_cast<std::size_t>(s.max_body_bytes);
    d.connection_limit = s.connection_limit;
    d.connection_limit_per_ip = s.connection_limit * 3 / 4;
    load_tls(s, d);
    return d;
}

constexpr std::string_view k_status_prefix = "/v1/erasure-requests/";

enum class Route { none, intake, status, health, metrics };

Route route_of(std::string_view path) {
    if (path == k_intake_path) {
        return Route::intake;
    }
    if (path.starts_with(k_status_prefix)) {
        return Route::status;
    }
    if (path == "/healthz") {
        return Route::health;
    }
    if (path == "/metrics") {
        return Route::metrics;
    }
    return Route::none;
}

// The methods a route takes.
const char* allowed_methods(Route route) {
    switch (route) {
    case Route::intake:
        return "POST";
    case Route::status:
        return "GET";
    case Route::health:
    case Route::metrics:
        return "GET, HEAD";
    case Route::none:
        break;
    }
    return "";
}

bool method_allowed(Route route, std::string_view method) {
    switch (route) {
    case Route::intake:
        return method == "POST";
    case Route::status:
        return method == "GET";
    case Route::health:
    case Route::metrics:
        return method == "GET" || method == "HEAD";
    case Route::none:
        break;
    }
    return false;
}

// The request_id of a status path: its last segment, percent-decoded; nullopt when it holds a
// '/' or a malformed escape.
std::optional<std::string> status_request_id(std::string_view path) {
    const std::string_view segment = path.substr(k_status_prefix.size());
    std::string out;
    for (std::size_t i = 0; i < segment.size(); ++i) {
        const char c = segment[i];
        if (c == '/') {
            return std::nullopt;
        }
        if (c != '%') {
            out += c;
            continue;
        }
        if (i + 2 >= segment.size()) {
            return std::nullopt;
        }
        const int hi = hex_digit_value(segment[i + 1]);
        const int lo = hex_digit_value(segment[i + 2]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

} // namespace

IntakeServer::IntakeServer(const ServerSettings& settings, const IntakeHandler& intake,
                           StatusSource& status)
    : m_settings(settings), m_intake(intake), m_status(status),
      m_daemon(std::make_unique<HttpDaemon>(daemon_settings(settings), *this)) {
}

IntakeServer::~IntakeServer() = default;

std::optional<HttpReply> IntakeServer::before_body(const RequestHead& head) {
    const Route route = route_of(head.path);
    if (route == Route::none) {
        return refusal(json_reply(404, "not_found", "no such path"));
    }
    const bool post = route == Route::intake;
    if (!method_allowed(route, head.method)) {
        HttpReply r = refusal(
            json_reply(405, "method_not_allowed", std::string("use ") + (post ? "POST" : "GET")));
        r.headers.emplace_back("Allow", allowed_methods(route));
        return r;
    }
    if (!post) {
        return std::nullopt;
    }
    // The MAC covers the bytes as sent; nothing is decoded, so an encoded body is refused before
    // a byte of it is read (no decompression before authentication).
    if (auto encoding = head.header("Content-Encoding");
        encoding && !equals_caseless(trim(*encoding), "identity")) {
        spdlog::warn("intake: refused a request: Content-Encoding is not identity");
        return refusal(json_reply(415, "unsupported_encoding",
                                  "Content-Encoding is not accepted: send the signed bytes as "
                                  "they are"));
    }
    if (auto te = head.header("Transfer-Encoding"); te && !equals_caseless(trim(*te), "chunked")) {
        spdlog::warn("intake: refused a request: Transfer-Encoding is not chunked");
        return refusal(json_reply(415, "unsupported_encoding",
                                  "Transfer-Encoding other than chunked is not accepted"));
    }
    if (auto length = head.header("Content-Length")) {
        const std::string_view digits = trim(*length);
        std::uint64_t n = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        // libmicrohttpd has refused a malformed Content-Length already; an overflow is large.
        if (ec == std::errc::result_out_of_range ||
            (ec == std::errc() && n > static_cast<std::uint64_t>(m_settings.max_body_bytes))) {
            return refusal(
                json_reply(413, "too_large", too_large_reason(m_settings.max_body_bytes)));
        }
    }
    return std::nullopt;
}

HttpReply IntakeServer::answer(const RequestHead& head, std::string_view body) {
    const Route route = route_of(head.path);
    if (route == Route::intake || route == Route::status) {
        PresentedSignature sig{head.header(k_timestamp_header), head.header(k_signature_header)};
        return json(route == Route::intake
                        ? m_intake.handle(sig, body)
                        : m_intake.status(sig, head.path, status_request_id(head.path)));
    }
    if (head.path == "/healthz") {
        Health h = m_status.health();
        return json(h.ok ? json_reply(200, "ok") : json_reply(503, "unavailable", h.reason));
    }
    try {
        HttpReply r;
        r.status = 200;
        r.body = render_metrics(m_status.metrics());
        r.content_type = k_metrics_content_type;
        return r;
    } catch (const std::exception& e) {
        spdlog::error("metrics: {}", e.what());
        return json(json_reply(503, "unavailable", "database unreachable"));
    }
}

HttpReply IntakeServer::too_large(const RequestHead&) {
    return refusal(json_reply(413, "too_large", too_large_reason(m_settings.max_body_bytes)));
}

std::string IntakeServer::bind() {
    const int port = m_daemon->start();
    return (m_settings.tls_cert_file.empty() ? "http://" : "https://") +
           m_settings.address.authority(port);
}

void IntakeServer::run() {
    {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [this] { return m_stop_requested; });
    }
    m_daemon->stop();
}

void IntakeServer::stop() {
    std::lock_guard lock(m_mutex);
    m_stop_requested = true;
    m_cv.notify_all();
}

} // namespace lethe::serve
