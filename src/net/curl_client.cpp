#include "net/curl_client.hpp"

#include "lethe_version.h"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"

#include <chrono>
#include <curl/curl.h>
#include <mutex>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string_view>
#include <vector>

namespace lethe::net {
namespace {

// A response larger than this is not a Track API answer; refusing it bounds memory.
constexpr std::size_t k_max_body_bytes = 1 << 20;

struct CurlEasyDeleter {
    void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
using CurlEasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
    void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using CurlSlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;

struct X509Deleter {
    void operator()(X509* cert) const noexcept { X509_free(cert); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

struct BioDeleter {
    void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

// curl_global_init is not thread-safe and must run once per process; it is never undone
// because handles may live until exit.
void global_init() {
    static std::once_flag once;
    static CURLcode result = CURLE_OK;
    std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (result != CURLE_OK) {
        throw Error(ExitCode::failure, "libcurl could not be initialised");
    }
}

// The extra trust anchors are read once, so a file that is missing or not PEM is a
// configuration error at start-up rather than a TLS failure on every call.
std::vector<X509Ptr> load_anchors(const std::string& path) {
    // Read through the bounded reader (a regular file of at most 4 MiB), not by OpenSSL, which
    // would wait on a FIFO or read a device without end.
    std::string pem;
    try {
        pem = read_file(path, FileKind::certificate);
    } catch (const ConfigError& e) {
        throw ConfigError(std::string("ca_file ") + e.what());
    }
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) {
        ERR_clear_error();
        throw ConfigError("ca_file " + path + ": cannot be read");
    }
    std::vector<X509Ptr> certs;
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
        certs.emplace_back(cert);
    }
    // The end of the file is reported as an error on OpenSSL's queue; it must not linger there
    // for the next, unrelated, OpenSSL call to find.
    ERR_clear_error();
    if (certs.empty()) {
        throw ConfigError("ca_file " + path + ": no PEM certificate found");
    }
    return certs;
}

// Called by libcurl for each new TLS connection, after it has loaded the system store into the
// SSL_CTX. Adding to that store (instead of pointing CURLOPT_CAINFO at the file, which replaces
// the default bundle) keeps the system anchors trusted as well.
CURLcode add_anchors(CURL* /*handle*/, void* ssl_ctx, void* user) {
    const auto* anchors = static_cast<const std::vector<X509Ptr>*>(user);
    X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
    if (store == nullptr) {
        return CURLE_SSL_CACERT_BADFILE;
    }
    for (const auto& cert : *anchors) {
        // Fails only when the certificate is already in the store (libcurl may cache and reuse
        // the store between connections); that is the state we want.
        if (X509_STORE_add_cert(store, cert.get()) != 1) {
            ERR_clear_error();
        }
    }
    return CURLE_OK;
}

struct Sink {
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool too_large = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* sink = static_cast<Sink*>(user);
    const size_t n = size * count;
    if (sink->body.size() + n > k_max_body_bytes) {
        sink->too_large = true;
        return 0; // makes libcurl stop with CURLE_WRITE_ERROR
    }
    sink->body.append(data, n);
    return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* sink = static_cast<Sink*>(user);
    const size_t n = size * count;
    std::string_view line(data, n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.remove_suffix(1);
    }
    // A status line starts a new response (after "100 Continue" or a proxy's CONNECT answer):
    // only the headers of the final response count.
    if (line.starts_with("HTTP/")) {
        sink->headers.clear();
        return n;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
        return n;
    }
    sink->headers.emplace_back(to_lower(trim(line.substr(0, colon))),
                               std::string(trim(line.substr(colon + 1))));
    return n;
}

// Generic text only: libcurl's own messages can name the URL, whose path holds identifiers.
std::string describe(CURLcode code, bool too_large) {
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST:
        return "could not resolve host";
    case CURLE_COULDNT_RESOLVE_PROXY:
        return "could not resolve proxy";
    case CURLE_COULDNT_CONNECT:
        return "connection failed";
    case CURLE_PEER_FAILED_VERIFICATION:
        return "TLS certificate not trusted";
    case CURLE_SSL_CONNECT_ERROR:
        return "TLS handshake failed";
    case CURLE_SSL_CACERT_BADFILE:
        return "TLS trust store could not be loaded";
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
        return "connection reset";
    case CURLE_GOT_NOTHING:
        return "empty reply from server";
    case CURLE_PARTIAL_FILE:
        return "connection closed mid-response";
    case CURLE_UNSUPPORTED_PROTOCOL:
        return "unsupported URL scheme";
    case CURLE_URL_MALFORMAT:
        return "malformed URL";
    case CURLE_WRITE_ERROR:
        if (too_large) {
            return "response too large";
        }
        break;
    default:
        break;
    }
    return "network error (curl " + std::to_string(static_cast<int>(code)) + ")";
}

bool is_token(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == ':' || c == '(' || c == ')' || c == ',' || c == ';' ||
            c == '"' || c == '/' || c == '[' || c == ']' || c == '?' || c == '=' || c == '{' ||
            c == '}' || c == '\\' || c == '@' || c == '<' || c == '>') {
            return false;
        }
    }
    return true;
}

// A CR or LF in a value would let it smuggle extra headers (or a second request) onto the wire.
bool is_header_value(std::string_view s) {
    for (char c : s) {
        if (c == '\r' || c == '\n' || c == '\0') {
            return false;
        }
    }
    return true;
}

} // namespace

struct CurlHttpClient::Impl {
    CurlOptions options;
    std::vector<X509Ptr> anchors;
    CurlEasyPtr handle;

    // The options every request must carry. Applied after each curl_easy_reset, which forgets
    // options but keeps the connection cache, so keep-alive survives.
    CURLcode apply_policy() {
        CURL* h = handle.get();
        CURLcode rc = CURLE_OK;
        auto set = [&](CURLoption opt, auto value) {
            if (rc == CURLE_OK) {
                rc = curl_easy_setopt(h, opt, value);
            }
        };
        set(CURLOPT_NOSIGNAL, 1L);
        set(CURLOPT_PROTOCOLS_STR, "http,https");
        set(CURLOPT_REDIR_PROTOCOLS_STR, "https");
        set(CURLOPT_FOLLOWLOCATION, 0L);
        set(CURLOPT_SSL_VERIFYPEER, 1L);
        set(CURLOPT_SSL_VERIFYHOST, 2L);
        set(CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
        set(CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
        set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
        set(CURLOPT_TIMEOUT_MS, options.timeout_ms);
        set(CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
        set(CURLOPT_USERAGENT, options.user_agent.c_str());
        set(CURLOPT_TCP_KEEPALIVE, 1L);
        // The path is sent exactly as the caller built it (no dot-segment squashing).
        set(CURLOPT_PATH_AS_IS, 1L);
        if (!anchors.empty()) {
            set(CURLOPT_SSL_CTX_FUNCTION, &add_anchors);
            set(CURLOPT_SSL_CTX_DATA, static_cast<void*>(&anchors));
        }
        return rc;
    }
};

CurlHttpClient::CurlHttpClient(CurlOptions options) : m_impl(std::make_unique<Impl>()) {
    global_init();
    if (options.user_agent.empty()) {
        options.user_agent = std::string("lethe/") + LETHE_VERSION;
    }
    m_impl->options = std::move(options);
    if (!m_impl->options.ca_file.empty()) {
        // The trust anchors are added through OpenSSL's SSL_CTX; another TLS backend would
        // silently ignore them, so refuse it instead.
        const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
        if (info == nullptr || info->ssl_version == nullptr ||
            !std::string_view(info->ssl_version).starts_with("OpenSSL")) {
            throw ConfigError("ca_file needs libcurl built with OpenSSL");
        }
        m_impl->anchors = load_anchors(m_impl->options.ca_file);
    }
    m_impl->handle.reset(curl_easy_init());
    if (!m_impl->handle) {
        throw Error(ExitCode::failure, "libcurl could not create a handle");
    }
    // Applying the policy once here turns an old or oddly built libcurl into a start-up error
    // instead of requests sent with a weaker policy.
    if (m_impl->apply_policy() != CURLE_OK) {
        throw ConfigError("libcurl cannot enforce the TLS and protocol policy (needs libcurl >= "
                          "7.85 with TLS support)");
    }
}

CurlHttpClient::~CurlHttpClient() = default;

HttpResponse CurlHttpClient::perform(const HttpRequest& req) {
    HttpResponse res;
    if (!is_token(req.method)) {
        res.transport_error = "invalid request method";
        return res;
    }
    CurlSlistPtr headers;
    auto add_header = [&](const std::string& line) {
        curl_slist* head = curl_slist_append(headers.get(), line.c_str());
        if (head == nullptr) {
            return false; // the list is unchanged and still owned
        }
        // The first append creates the list; later ones return the same head.
        if (head != headers.get()) {
            headers.reset(head);
        }
        return true;
    };
    for (const auto& [name, value] : req.headers) {
        if (!is_token(name) || !is_header_value(value)) {
            res.transport_error = "invalid request header";
            return res;
        }
        // libcurl drops a header written "Name:" with no value; "Name;" sends it empty.
        if (!add_header(value.empty() ? name + ";" : name + ": " + value)) {
            res.transport_error = "out of memory";
            return res;
        }
    }
    // No "Expect: 100-continue" round trip: bodies are tiny and some proxies mishandle it.
    if (!add_header("Expect:")) {
        res.transport_error = "out of memory";
        return res;
    }

    CURL* h = m_impl->handle.get();
    curl_easy_reset(h);
    Sink sink;
    CURLcode rc = m_impl->apply_policy();
    auto set = [&](CURLoption opt, auto value) {
        if (rc == CURLE_OK) {
            rc = curl_easy_setopt(h, opt, value);
        }
    };
    set(CURLOPT_URL, req.url.c_str());
    set(CURLOPT_HTTPHEADER, headers.get());
    set(CURLOPT_WRITEFUNCTION, &on_body);
    set(CURLOPT_WRITEDATA, static_cast<void*>(&sink));
    set(CURLOPT_HEADERFUNCTION, &on_header);
    set(CURLOPT_HEADERDATA, static_cast<void*>(&sink));
    const bool has_body =
        !req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    if (req.method == "HEAD") {
        set(CURLOPT_NOBODY, 1L);
    } else if (has_body) {
        // COPYPOSTFIELDS copies, so the request may die before the handle; its size must be
        // set first, otherwise libcurl uses strlen.
        set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
        set(CURLOPT_COPYPOSTFIELDS, req.body.c_str());
        if (req.method != "POST") {
            set(CURLOPT_CUSTOMREQUEST, req.method.c_str());
        }
    } else {
        set(CURLOPT_HTTPGET, 1L);
        if (req.method != "GET") {
            set(CURLOPT_CUSTOMREQUEST, req.method.c_str());
        }
    }
    if (rc != CURLE_OK) {
        res.transport_error = "libcurl refused a request option";
        return res;
    }

    const auto start = std::chrono::steady_clock::now();
    rc = curl_easy_perform(h);
    res.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    // The header list must outlive the transfer only; drop the handle's pointer to it now.
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
    if (rc != CURLE_OK) {
        res.transport_error = describe(rc, sink.too_large);
        res.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
        return res;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    res.status = status;
    res.body = std::move(sink.body);
    res.headers = std::move(sink.headers);
    return res;
}

} // namespace lethe::net
