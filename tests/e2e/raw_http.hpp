#pragma once

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>

namespace lethe::test {

// A plain TCP connection to 127.0.0.1, for sending what no HTTP client library would send.
class RawConnection {
public:
    explicit RawConnection(int port) {
        std::signal(SIGPIPE, SIG_IGN); // a server that closes must not kill the test
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (m_fd < 0) {
            throw std::runtime_error("socket failed");
        }
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(m_fd);
            throw std::runtime_error("connect failed");
        }
        const timeval tv{5, 0};
        ::setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    ~RawConnection() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    // Sends all of `data`; false once the server has closed (or reset) the connection.
    bool send(std::string_view data) {
        while (!data.empty()) {
            ssize_t n = ::send(m_fd, data.data(), data.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return false;
            }
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // What the server sends until it closes the connection, `timeout` passes, or (when
    // `until` is not empty) the text received contains `until`.
    std::string read(std::chrono::milliseconds timeout, std::string_view until = {}) {
        std::string out;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        char buf[4096];
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                return out;
            }
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                return out;
            }
            ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
            if (n <= 0) {
                m_closed = true;
                return out;
            }
            out.append(buf, static_cast<std::size_t>(n));
            if (!until.empty() && out.find(until) != std::string::npos) {
                return out;
            }
        }
    }

    // True once read() saw the server close the connection.
    bool closed() const { return m_closed; }

private:
    int m_fd = -1;
    bool m_closed = false;
};

// The port of a URL such as http://127.0.0.1:8377.
inline int url_port(const std::string& url) {
    return std::stoi(url.substr(url.rfind(':') + 1));
}

// The status code of an HTTP/1.x answer, or 0 when there is none.
inline int status_of(const std::string& reply) {
    if (reply.rfind("HTTP/1.", 0) != 0 || reply.size() < 12) {
        return 0;
    }
    return std::stoi(reply.substr(9, 3));
}

// Resident memory of process `pid` in KiB (VmRSS), or -1.
inline long rss_kib(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    return -1;
}

} // namespace lethe::test
