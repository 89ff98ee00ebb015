#include "sandbox/server.hpp"

#include "net/http_server.hpp"
#include "sandbox/admin_handler.hpp"
#include "sandbox/api_handler.hpp"
#include "sandbox/context.hpp"
#include "sandbox/responses.hpp"
#include "worker/signals.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <httplib.h>
#include <memory>
#include <thread>

namespace lethe::sandbox {
namespace {

constexpr auto k_drain_limit = std::chrono::seconds(5);

std::unique_ptr<httplib::Server> make_server(const Options& o) {
    if (o.tls_cert.empty()) {
        return std::make_unique<httplib::Server>();
    }
    auto server = std::make_unique<httplib::SSLServer>(o.tls_cert.c_str(), o.tls_key.c_str());
    if (!server->is_valid()) {
        throw UsageError("--tls-cert/--tls-key: cannot load " + o.tls_cert + " and " + o.tls_key +
                         " (PEM certificate and its private key)");
    }
    return server;
}

void configure(httplib::Server& server, const Options& o, Context& ctx) {
    // One thread per connection: enough of them that added latency never serialises clients.
    std::size_t threads = static_cast<std::size_t>(o.threads);
    server.new_task_queue = [threads] {
        return new httplib::ThreadPool(threads);
    };
    server.set_keep_alive_max_count(100'000);
    // httplib writes headers and body separately; without TCP_NODELAY, Nagle holds the body
    // until the client's delayed ACK (40 ms), which would cap every client at ~25 calls/s.
    server.set_tcp_nodelay(true);
    server.set_payload_max_length(1 << 20);
    server.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
            send_json(res, 500, meta_error("lethe-sandbox: internal error"));
        });
    server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
        net::assume_empty_body(req);
        return httplib::Server::HandlerResponse::Unhandled;
    });
    register_api_routes(server, ctx);
    register_admin_routes(server, ctx);
}

void reload_key(const Options& o, Context& ctx) {
    if (o.api_key_file.empty()) {
        ctx.access_log.note("SIGHUP: no --api-key-file to reload; credentials unchanged");
        return;
    }
    try {
        ctx.workspaces.front()->track_credentials.replace({{o.site_id, resolve_api_key(o)}});
        ctx.access_log.note("SIGHUP: reloaded the API key from " + o.api_key_file);
    } catch (const std::exception& e) {
        ctx.access_log.note(std::string("SIGHUP: credentials unchanged: ") + e.what());
    }
}

// Waits (bounded) for handlers to finish; the injected sleeps end at once on stop.
void drain(const Context& ctx) {
    auto deadline = std::chrono::steady_clock::now() + k_drain_limit;
    while (ctx.in_flight.count() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

} // namespace

void serve(const Options& o, const WorkspacesFile& workspaces) {
    std::unique_ptr<Context> owned;
    try {
        owned = std::make_unique<Context>(workspaces, o.faults, o.log_limit, o.log);
    } catch (const std::invalid_argument& e) {
        throw UsageError(o.workspaces_file.empty() ? std::string(e.what())
                                                   : o.workspaces_file + ": " + e.what());
    }
    Context& ctx = *owned;
    std::atomic<bool> by_signal{false};
    // Before any other thread exists, so every thread inherits the blocked signals.
    worker::SignalWatcher signals(
        [&] {
            by_signal = true;
            ctx.stop.request_stop();
        },
        [&] { reload_key(o, ctx); });

    auto server = make_server(o);
    configure(*server, o, ctx);
    int port = net::bind_server(*server, o.address);
    std::string url = (o.tls_cert.empty() ? "http://" : "https://") + o.address.authority(port);
    ctx.own_url = url;

    std::thread listener([&] {
        server->listen_after_bind();
        ctx.stop.request_stop();
    });
    std::printf("lethe-sandbox listening on %s\n", url.c_str());
    std::fflush(stdout);

    ctx.stop.wait();
    server->stop();
    drain(ctx);
    std::fflush(nullptr);
    // httplib joins its pool on the way out, and idle keep-alive connections hold threads for
    // their full timeout; the handlers are done, so end here instead of waiting for them.
    std::_Exit(by_signal ? 0 : 1);
}

} // namespace lethe::sandbox
