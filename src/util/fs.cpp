#include "util/fs.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace lethe {
namespace {

std::string errno_text() {
    return std::strerror(errno);
}

// Owns a file descriptor so every exit path closes it.
class Fd {
public:
    explicit Fd(int fd) : m_fd(fd) {}
    ~Fd() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }

private:
    int m_fd;
};

void write_all(int fd, std::string_view content, const std::filesystem::path& path) {
    while (!content.empty()) {
        ssize_t n = ::write(fd, content.data(), content.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw Error(ExitCode::failure, path.string() + ": write failed: " + errno_text());
        }
        content.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::fsync(fd) != 0) {
        throw Error(ExitCode::failure, path.string() + ": fsync failed: " + errno_text());
    }
}

void fsync_dir(const std::filesystem::path& path) {
    auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() >= 0) {
        ::fsync(fd.get());
    }
}

} // namespace

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(ExitCode::config, path.string() + ": cannot read: " + errno_text());
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void create_private_file(const std::filesystem::path& path, std::string_view content) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
        throw Error(ExitCode::config, path.string() + ": cannot create: " + errno_text());
    }
    ::fchmod(fd.get(), 0600); // the umask may have removed bits, never added them; be explicit
    write_all(fd.get(), content, path);
    fsync_dir(path);
}

void write_file_atomic(const std::filesystem::path& path, std::string_view content) {
    auto tmp = path;
    tmp += ".tmp." + std::to_string(::getpid());
    {
        Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (fd.get() < 0) {
            throw Error(ExitCode::failure, tmp.string() + ": cannot create: " + errno_text());
        }
        write_all(fd.get(), content, tmp);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        auto reason = errno_text();
        ::unlink(tmp.c_str());
        throw Error(ExitCode::failure, path.string() + ": cannot replace: " + reason);
    }
    fsync_dir(path);
}

std::filesystem::path resolve_path(const std::filesystem::path& base_dir,
                                   const std::filesystem::path& p) {
    if (p.empty() || p.is_absolute()) {
        return p;
    }
    return base_dir / p;
}

} // namespace lethe
