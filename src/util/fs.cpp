#include "util/fs.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <random>
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

int create_temp_beside(const std::filesystem::path& target, std::filesystem::path& tmp) {
    // A name nobody can guess, created only if absent and never through a symlink: in a directory
    // that others can write to, a planted `x.tmp.PID` (a link to the database, or a file they
    // can read) must not receive the output.
    std::random_device random;
    for (int tries = 0; tries < 16; ++tries) {
        char suffix[17];
        std::snprintf(suffix, sizeof suffix, "%08x%08x", random(), random());
        tmp = target;
        tmp += ".tmp." + std::to_string(::getpid()) + "." + suffix;
        int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            return fd;
        }
        if (errno != EEXIST) {
            break;
        }
    }
    throw Error(ExitCode::failure, tmp.string() + ": cannot create: " + errno_text());
}

void write_file_atomic(const std::filesystem::path& path, std::string_view content) {
    std::filesystem::path tmp;
    {
        Fd fd(create_temp_beside(path, tmp));
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
