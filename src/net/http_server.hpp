#pragma once

#include "net/listen_address.hpp"

#include <httplib.h>

// Helpers for the cpp-httplib server of lethe-sandbox (lethe serve runs on libmicrohttpd).
namespace lethe::net {

// RFC 9112 6.3: a request with neither Content-Length nor Transfer-Encoding has no body, but
// httplib 0.11 reads a POST like that until the connection closes (a 5 s stall, then 400).
// `curl -X POST URL` sends exactly that, so this says "Content-Length: 0" before httplib reads;
// call it from a pre-routing handler.
void assume_empty_body(const httplib::Request& req);

// Binds `server` to `address` (port 0: any free port) and returns the port. Throws
// std::runtime_error naming the address when it cannot listen there.
int bind_server(httplib::Server& server, const ListenAddress& address);

} // namespace lethe::net
