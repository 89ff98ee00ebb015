#include "audit/output.hpp"

#include "util/error.hpp"
#include "util/fs.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lethe::audit {
namespace {

std::string errno_text() {
    return std::strerror(errno);
}

} // namespace

OutputFile::OutputFile(std::filesystem::path path)
    : m_path(std::move(path)), m_buf(new char[k_block]), m_capacity(k_block) {
    if (m_path.empty()) {
        m_fd = STDOUT_FILENO;
        return;
    }
    m_fd = create_temp_beside(m_path, m_tmp);
}

OutputFile::~OutputFile() {
    if (m_path.empty()) {
        return;
    }
    if (m_fd >= 0) {
        ::close(m_fd);
    }
    if (!m_committed) {
        ::unlink(m_tmp.c_str());
    }
}

void OutputFile::make_room(std::size_t n) {
    flush();
    if (n > m_capacity) {
        // One oversized entry: grow to fit it; the buffer stays that size.
        m_buf.reset(new char[n]);
        m_capacity = n;
    }
}

void OutputFile::write(std::string_view s) {
    char* at = reserve(s.size());
    std::memcpy(at, s.data(), s.size());
    advance(at + s.size());
}

void OutputFile::flush() {
    std::string_view rest(m_buf.get(), m_used);
    while (!rest.empty()) {
        ssize_t n = ::write(m_fd, rest.data(), rest.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw Error(ExitCode::failure,
                        (m_path.empty() ? std::string("stdout") : m_tmp.string()) +
                            ": write failed: " + errno_text());
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    m_bytes += m_used;
    m_used = 0;
    start_writeback();
}

void OutputFile::start_writeback() {
    if (m_path.empty() || m_bytes - m_writeback_from < k_writeback_chunk) {
        return;
    }
    // Ask the kernel to start writing what is complete now, without waiting for it, so the
    // disk works while the rest is formatted and commit()'s fsync finds little left to do.
    // Only a hint: when it fails (not Linux, an odd file system) the fsync still does it all.
    ::sync_file_range(m_fd, static_cast<off_t>(m_writeback_from),
                      static_cast<off_t>(m_bytes - m_writeback_from), SYNC_FILE_RANGE_WRITE);
    m_writeback_from = m_bytes;
}

void OutputFile::commit() {
    flush();
    if (m_path.empty()) {
        return;
    }
    if (::fsync(m_fd) != 0) {
        throw Error(ExitCode::failure, m_tmp.string() + ": fsync failed: " + errno_text());
    }
    ::close(m_fd);
    m_fd = -1;
    if (::rename(m_tmp.c_str(), m_path.c_str()) != 0) {
        throw Error(ExitCode::failure, m_path.string() + ": cannot replace: " + errno_text());
    }
    m_committed = true;
    auto dir = m_path.parent_path().empty() ? std::filesystem::path(".") : m_path.parent_path();
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

} // namespace lethe::audit
