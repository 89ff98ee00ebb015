#include "net/http_server.hpp"

#include <stdexcept>

namespace lethe::net {

void assume_empty_body(const httplib::Request& req) {
    if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")) {
        // The request object is httplib's own non-const local; only the reference is const.
        const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
    }
}

int bind_server(httplib::Server& server, const ListenAddress& address) {
    int port = address.port;
    if (port == 0) {
        port = server.bind_to_any_port(address.host);
    } else if (!server.bind_to_port(address.host, port)) {
        port = -1;
    }
    if (port <= 0) {
        throw std::runtime_error("cannot listen on " + address.authority(address.port));
    }
    return port;
}

} // namespace lethe::net
