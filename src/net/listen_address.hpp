#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lethe::net {

// A parsed --listen value.
struct ListenAddress {
    std::string host; // without brackets, e.g. "127.0.0.1" or "::1"
    int port = 0;     // 0: any free port

    // "HOST:PORT", with IPv6 hosts in brackets, as it appears in a URL.
    std::string authority(int actual_port) const;
};

// Parses "HOST:PORT" or "[V6]:PORT"; nullopt when malformed or the port is out of range.
std::optional<ListenAddress> parse_listen_address(std::string_view text);

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

} // namespace lethe::net
