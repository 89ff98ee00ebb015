#include "net/listen_address.hpp"

#include "util/strings.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace lethe::net {

std::string ListenAddress::authority(int actual_port) const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(actual_port);
}

std::optional<ListenAddress> parse_listen_address(std::string_view text) {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        return std::nullopt;
    }
    std::string_view host = text.substr(0, colon);
    if (host.front() == '[') {
        if (host.size() < 3 || host.back() != ']') {
            return std::nullopt;
        }
        host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string_view::npos) {
        return std::nullopt; // a bare IPv6 address is ambiguous: require brackets
    }
    auto port = parse_int64(text.substr(colon + 1));
    if (!port || *port > 65535) {
        return std::nullopt;
    }
    return ListenAddress{std::string(host), static_cast<int>(*port)};
}

bool is_loopback_host(const std::string& host) {
    if (host == "localhost") {
        return true;
    }
    in_addr v4{};
    if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
        return (ntohl(v4.s_addr) >> 24) == 127;
    }
    in6_addr v6{};
    if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
        return IN6_IS_ADDR_LOOPBACK(&v6);
    }
    return false;
}

} // namespace lethe::net
