#include "serve/http_daemon.hpp"

#include "util/fs.hpp"

#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <strings.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace lethe::serve {

// One request between libmicrohttpd's calls: created on the first call (headers in), freed by
// the completion callback.
struct Exchange {
    RequestHead head;
    std::string body;
    bool overflow = false;   // the body grew past max_body_bytes
    std::size_t dropped = 0; // bytes dropped after the overflow
    bool answered = false;   // a reply is queued
};

namespace {

constexpr const char* k_internal_error = R"({"status":"error","reason":"internal error"})";

struct ResponseDeleter {
    void operator()(MHD_Response* r) const { MHD_destroy_response(r); }
};
using ResponsePtr = std::unique_ptr<MHD_Response, ResponseDeleter>;

struct AddrinfoDeleter {
    void operator()(addrinfo* a) const { ::freeaddrinfo(a); }
};

std::string errno_text() {
    return std::strerror(errno);
}

// A socket bound to `address` and listening; throws std::runtime_error naming the address.
UniqueFd listen_on(const net::ListenAddress& address) {
    const std::string where = address.authority(address.port);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(address.port);
    if (int rc = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        throw std::runtime_error("cannot listen on " + where + ": " + ::gai_strerror(rc));
    }
    std::unique_ptr<addrinfo, AddrinfoDeleter> owner(found);
    std::string why = "no address";
    for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        UniqueFd s(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                            ai->ai_protocol));
        if (s.get() < 0) {
            why = errno_text();
            continue;
        }
        const int on = 1;
        if (::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
            (ai->ai_family == AF_INET6 &&
             ::setsockopt(s.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) ||
            ::bind(s.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(s.get(), 128) != 0) {
            why = errno_text();
            continue;
        }
        return UniqueFd(s.release());
    }
    throw std::runtime_error("cannot listen on " + where + ": " + why);
}

int local_port(int fd) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        throw std::runtime_error("getsockname: " + errno_text());
    }
    if (addr.ss_family == AF_INET6) {
        return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    }
    return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

// libmicrohttpd's own messages; they never hold a body. Most are about one client's protocol
// errors or disconnects, which any client can repeat at will: debug, so that a hostile client
// cannot flood the log. Reaching a connection limit or failing to start a thread concerns the
// service: warning.
void log_message(void*, const char* format, va_list args) {
    char text[512];
    std::vsnprintf(text, sizeof text, format, args);
    std::string_view line(text);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.remove_suffix(1);
    }
    const bool service = line.find("limit") != std::string_view::npos ||
                         line.find("thread") != std::string_view::npos;
    spdlog::log(service ? spdlog::level::warn : spdlog::level::debug, "http: {}", line);
}

// Leaves the URL as sent: a status query's signature covers its path percent-encoded as the
// sender wrote it, and the route decodes the request_id itself.
std::size_t keep_escaped(void*, MHD_Connection*, char* text) {
    return std::strlen(text);
}

MHD_Result add_header(void* cls, MHD_ValueKind, const char* key, const char* value) {
    auto* head = static_cast<RequestHead*>(cls);
    head->headers.emplace(key, value != nullptr ? value : ""); // the first of repeated names
    return MHD_YES;
}

} // namespace

bool HeaderNameLess::operator()(const std::string& a, const std::string& b) const {
    return ::strcasecmp(a.c_str(), b.c_str()) < 0;
}

std::optional<std::string_view> RequestHead::header(const std::string& name) const {
    auto it = headers.find(name);
    if (it == headers.end()) {
        return std::nullopt;
    }
    return std::string_view(it->second);
}

struct DaemonCallbacks {
    static MHD_Result queue(MHD_Connection* connection, const HttpReply& reply) {
        ResponsePtr response(MHD_create_response_from_buffer(
            reply.body.size(), const_cast<char*>(reply.body.data()), MHD_RESPMEM_MUST_COPY));
        if (!response) {
            return MHD_NO;
        }
        bool ok = MHD_add_response_header(response.get(), MHD_HTTP_HEADER_CONTENT_TYPE,
                                          reply.content_type.c_str()) == MHD_YES;
        for (const auto& [name, value] : reply.headers) {
            ok = ok &&
                 MHD_add_response_header(response.get(), name.c_str(), value.c_str()) == MHD_YES;
        }
        if (reply.close) {
            ok = ok && MHD_add_response_header(response.get(), MHD_HTTP_HEADER_CONNECTION,
                                               "close") == MHD_YES;
        }
        if (!ok) {
            return MHD_NO;
        }
        return MHD_queue_response(connection, static_cast<unsigned>(reply.status), response.get());
    }

    static MHD_Result access(void* cls, MHD_Connection* connection, const char* url,
                             const char* method, const char*, const char* upload,
                             std::size_t* upload_size, void** context) {
        auto& self = *static_cast<HttpDaemon*>(cls);
        try {
            if (*context == nullptr) {
                return first_call(self, connection, url, method, context);
            }
            auto& ex = *static_cast<Exchange*>(*context);
            if (ex.answered) {
                *upload_size = 0; // an early answer: libmicrohttpd drops the rest
                return MHD_YES;
            }
            if (*upload_size != 0) {
                return body_part(self, ex, upload, upload_size);
            }
            HttpReply reply = ex.overflow ? self.m_routes.too_large(ex.head)
                                          : self.m_routes.answer(ex.head, ex.body);
            if (ex.overflow) {
                reply.close = true;
            }
            if (self.m_stopping) {
                reply.close = true; // let keep-alive connections end while draining
            }
            ex.answered = true;
            return queue(connection, reply);
        } catch (const std::exception& e) {
            spdlog::error("http: {}", e.what());
            HttpReply reply;
            reply.status = 500;
            reply.body = k_internal_error;
            reply.close = true;
            return queue(connection, reply);
        }
    }

    static MHD_Result first_call(HttpDaemon& self, MHD_Connection* connection, const char* url,
                                 const char* method, void** context) {
        auto ex = std::make_unique<Exchange>();
        ex->head.method = method;
        ex->head.path = url;
        MHD_get_connection_values(connection, MHD_HEADER_KIND, &add_header, &ex->head);
        auto& exchange = *ex;
        *context = ex.release();
        ++self.m_in_progress;
        if (auto early = self.m_routes.before_body(exchange.head)) {
            exchange.answered = true;
            return queue(connection, *early);
        }
        exchange.body.reserve(std::min<std::size_t>(self.m_settings.max_body_bytes, 4096));
        return MHD_YES;
    }

    static MHD_Result body_part(HttpDaemon& self, Exchange& ex, const char* upload,
                                std::size_t* upload_size) {
        const std::size_t n = *upload_size;
        *upload_size = 0;
        if (!ex.overflow && ex.body.size() + n <= self.m_settings.max_body_bytes) {
            ex.body.append(upload, n);
            return MHD_YES;
        }
        if (!ex.overflow) {
            ex.overflow = true;
            ex.body.clear();
            ex.body.shrink_to_fit();
        }
        ex.dropped += n;
        if (ex.dropped > self.m_settings.discard_bytes) {
            spdlog::warn("intake: a chunked body grew past {} bytes; connection closed",
                         self.m_settings.max_body_bytes);
            return MHD_NO; // closes the connection without reading more
        }
        return MHD_YES;
    }

    static void completed(void* cls, MHD_Connection*, void** context, MHD_RequestTerminationCode) {
        auto& self = *static_cast<HttpDaemon*>(cls);
        if (*context != nullptr) {
            delete static_cast<Exchange*>(*context);
            *context = nullptr;
            --self.m_in_progress;
        }
    }
};

HttpDaemon::HttpDaemon(DaemonSettings settings, HttpRoutes& routes)
    : m_settings(std::move(settings)), m_routes(routes) {
    if (!m_settings.tls_cert_pem.empty() && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        throw std::runtime_error("this libmicrohttpd was built without TLS");
    }
}

HttpDaemon::~HttpDaemon() {
    stop();
}

int HttpDaemon::start() {
    UniqueFd listener = listen_on(m_settings.address);
    const int port = local_port(listener.get());
    const bool tls = !m_settings.tls_cert_pem.empty();
    // Thread per connection (see the class comment); poll() so that descriptors above
    // FD_SETSIZE work; an inter-thread channel for MHD_quiesce_daemon.
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    MHD_OptionItem tls_options[] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(m_settings.tls_key_pem.c_str())},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(m_settings.tls_cert_pem.c_str())},
        {MHD_OPTION_HTTPS_PRIORITIES, 0,
         const_cast<char*>("NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2")},
        {MHD_OPTION_END, 0, nullptr},
    };
    MHD_OptionItem no_options[] = {{MHD_OPTION_END, 0, nullptr}};
    if (tls) {
        flags |= MHD_USE_TLS;
    }
    m_daemon = MHD_start_daemon(
        flags, 0, nullptr, nullptr, &DaemonCallbacks::access, this, MHD_OPTION_EXTERNAL_LOGGER,
        &log_message, nullptr, MHD_OPTION_LISTEN_SOCKET, listener.get(),
        MHD_OPTION_CONNECTION_LIMIT, m_settings.connection_limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, m_settings.connection_limit_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, m_settings.idle_timeout_seconds,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, m_settings.connection_memory_bytes,
        MHD_OPTION_NOTIFY_COMPLETED, &DaemonCallbacks::completed, this,
        MHD_OPTION_UNESCAPE_CALLBACK, &keep_escaped, nullptr, MHD_OPTION_ARRAY,
        tls ? tls_options : no_options, MHD_OPTION_END);
    if (m_daemon == nullptr) {
        throw std::runtime_error("cannot serve HTTP on " +
                                 m_settings.address.authority(m_settings.address.port) +
                                 (tls ? " (TLS certificate or key refused)" : ""));
    }
    listener.release(); // the daemon's now: returned by MHD_quiesce_daemon, or closed by it
    return port;
}

void HttpDaemon::stop() {
    if (m_daemon == nullptr) {
        return;
    }
    m_stopping = true;
    const MHD_socket fd = MHD_quiesce_daemon(m_daemon);
    if (fd != MHD_INVALID_SOCKET) {
        ::close(fd);
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(m_settings.drain_ms);
    while (m_in_progress.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // Shuts every connection down and joins its thread; a handler already running finishes.
    MHD_stop_daemon(m_daemon);
    m_daemon = nullptr;
}

} // namespace lethe::serve
