#include "util/fs.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace lethe {

void UniqueFd::reset() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
    m_fd = -1;
}
namespace {

std::string errno_text() {
    return std::strerror(errno);
}

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
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() >= 0) {
        ::fsync(fd.get());
    }
}

struct KindTraits {
    std::uint64_t max_bytes;
    const char* what; // "a checkpoint note", for "larger than 64 KiB, the most ... may hold"
    const char* limit_text;
};

KindTraits traits(FileKind kind) {
    switch (kind) {
    case FileKind::config:
        return {1ull << 20, "a configuration file", "1 MiB"};
    case FileKind::secret:
        return {64ull << 10, "a secret file", "64 KiB"};
    case FileKind::verifier_key:
        return {64ull << 10, "a verifier key file", "64 KiB"};
    case FileKind::certificate:
        return {4ull << 20, "a certificate file", "4 MiB"};
    case FileKind::checkpoint_note:
        return {64ull << 10, "a checkpoint note", "64 KiB"};
    case FileKind::request_body:
        return {1ull << 20, "a request body", "1 MiB"};
    case FileKind::import_csv:
        return {4ull << 30, "a CSV import", "4 GiB"};
    case FileKind::audit_export:
        return {64ull << 30, "an audit export", "64 GiB"};
    }
    return {0, "a file", "0 bytes"};
}

} // namespace

std::uint64_t max_file_bytes(FileKind kind) {
    return traits(kind).max_bytes;
}

std::string file_type_name(mode_t mode) {
    if (S_ISREG(mode)) {
        return "a regular file";
    }
    if (S_ISDIR(mode)) {
        return "a directory";
    }
    if (S_ISFIFO(mode)) {
        return "a FIFO";
    }
    if (S_ISCHR(mode)) {
        return "a character device";
    }
    if (S_ISBLK(mode)) {
        return "a block device";
    }
    if (S_ISSOCK(mode)) {
        return "a socket";
    }
    if (S_ISLNK(mode)) {
        return "a symbolic link";
    }
    return "not a file";
}

// Feeds InputFile::read() to a std::istream.
class InputFile::StreamBuf : public std::streambuf {
public:
    explicit StreamBuf(InputFile& file) : m_file(file) {}

protected:
    int_type underflow() override {
        if (gptr() < egptr()) {
            return traits_type::to_int_type(*gptr());
        }
        std::size_t n = m_file.read(m_buf, sizeof m_buf);
        if (n == 0) {
            return traits_type::eof();
        }
        setg(m_buf, m_buf, m_buf + n);
        return traits_type::to_int_type(*gptr());
    }

private:
    InputFile& m_file;
    char m_buf[64 * 1024];
};

InputFile::InputFile(int fd, FileKind kind, std::string name, bool owned)
    : m_fd(fd), m_owned(owned), m_kind(kind), m_name(std::move(name)) {
}

InputFile::InputFile(const std::filesystem::path& path, FileKind kind)
    : InputFile(-1, kind, path.string(), true) {
    // O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever.
    m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (m_fd < 0) {
        fail(std::string("cannot open: ") + errno_text());
    }
    if (::fstat(m_fd, &m_status) != 0) {
        fail(std::string("cannot stat: ") + errno_text());
    }
    if (!S_ISREG(m_status.st_mode)) {
        fail("is " + file_type_name(m_status.st_mode) + ", not a regular file");
    }
    if (static_cast<std::uint64_t>(m_status.st_size) > traits(kind).max_bytes) {
        fail(std::string("is larger than ") + traits(kind).limit_text + ", the most " +
             traits(kind).what + " may hold");
    }
    int flags = ::fcntl(m_fd, F_GETFL);
    if (flags < 0 || ::fcntl(m_fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        fail(std::string("cannot read: ") + errno_text());
    }
}

InputFile InputFile::standard_input(FileKind kind, std::string name) {
    InputFile in(STDIN_FILENO, kind, std::move(name), false);
    if (::fstat(STDIN_FILENO, &in.m_status) != 0) {
        in.fail(std::string("cannot stat: ") + errno_text());
    }
    if (S_ISDIR(in.m_status.st_mode)) {
        in.fail("is a directory");
    }
    return in;
}

InputFile::InputFile(InputFile&& other) noexcept
    : m_fd(other.m_fd), m_owned(other.m_owned), m_kind(other.m_kind),
      m_name(std::move(other.m_name)), m_status(other.m_status), m_read(other.m_read) {
    other.m_fd = -1;
    // A stream made before the move would point at the old object: none is (stream() is lazy).
}

InputFile::~InputFile() {
    if (m_owned && m_fd >= 0) {
        ::close(m_fd);
    }
}

void InputFile::fail(const std::string& reason) const {
    const std::string message = m_name + ": " + reason;
    switch (m_kind) {
    case FileKind::config:
    case FileKind::secret:
    case FileKind::verifier_key:
    case FileKind::certificate:
        throw ConfigError(message);
    case FileKind::request_body:
    case FileKind::import_csv:
        throw InputError(message);
    case FileKind::checkpoint_note:
    case FileKind::audit_export:
        break;
    }
    throw Error(ExitCode::failure, message);
}

std::size_t InputFile::read(char* buf, std::size_t n) {
    const std::uint64_t limit = traits(m_kind).max_bytes;
    // One byte beyond the limit is asked for, so a file of exactly the limit still ends cleanly.
    const std::uint64_t room = limit + 1 - m_read;
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, room));
    for (;;) {
        ssize_t got = ::read(m_fd, buf, n);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail(std::string("read failed: ") + errno_text());
        }
        m_read += static_cast<std::uint64_t>(got);
        if (m_read > limit) {
            fail(std::string("holds more than ") + traits(m_kind).limit_text + ", the most " +
                 traits(m_kind).what + " may hold");
        }
        return static_cast<std::size_t>(got);
    }
}

std::string InputFile::read_all() {
    std::string out;
    if (S_ISREG(m_status.st_mode) && m_status.st_size > 0) {
        out.reserve(static_cast<std::size_t>(m_status.st_size));
    }
    char buf[16 * 1024];
    while (std::size_t n = read(buf, sizeof buf)) {
        out.append(buf, n);
    }
    return out;
}

std::istream& InputFile::stream() {
    if (!m_stream) {
        m_buf = std::make_unique<StreamBuf>(*this);
        m_stream = std::make_unique<std::istream>(m_buf.get());
        m_stream->exceptions(std::ios::badbit);
    }
    return *m_stream;
}

std::string read_file(const std::filesystem::path& path, FileKind kind) {
    InputFile file(path, kind);
    return file.read_all();
}

void create_private_file(const std::filesystem::path& path, std::string_view content) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
        throw Error(ExitCode::config, path.string() + ": cannot create: " + errno_text());
    }
    ::fchmod(fd.get(), 0600); // the umask may have removed bits, never added them; be explicit
    try {
        write_all(fd.get(), content, path);
    } catch (...) {
        // A key cut short by a full disk must not stay: `lethe init` would keep it next time.
        ::unlink(path.c_str());
        throw;
    }
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
    UniqueFd fd(create_temp_beside(path, tmp));
    try {
        // Errors name the file being replaced; the temporary file is gone by then.
        write_all(fd.get(), content, path);
    } catch (...) {
        // A full disk (or a file size limit) must not leave an empty or partial temporary file.
        ::unlink(tmp.c_str());
        throw;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        auto reason = errno_text();
        ::unlink(tmp.c_str());
        throw Error(ExitCode::failure, path.string() + ": cannot replace: " + reason);
    }
    fsync_dir(path);
}

void rename_durably(const std::filesystem::path& tmp, const std::filesystem::path& target) {
    UniqueFd fd(::open(tmp.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
        throw Error(ExitCode::failure, tmp.string() + ": cannot fsync: " + errno_text());
    }
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
        throw Error(ExitCode::failure, target.string() + ": cannot replace: " + errno_text());
    }
    fsync_dir(target);
}

std::optional<FilesystemSpace> filesystem_space(const std::filesystem::path& path) {
    struct statvfs st {};
    if (::statvfs(path.c_str(), &st) != 0) {
        return std::nullopt;
    }
    return FilesystemSpace{static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize,
                           static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize};
}

std::filesystem::path resolve_path(const std::filesystem::path& base_dir,
                                   const std::filesystem::path& p) {
    if (p.empty() || p.is_absolute()) {
        return p;
    }
    return base_dir / p;
}

} // namespace lethe
