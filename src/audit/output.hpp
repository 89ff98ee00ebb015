#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace lethe::audit {

// Buffered output to stdout, or to a file that appears only when complete: the bytes go to a
// temporary file (mode 0600) beside it, which commit() fsyncs and renames into place. Without
// commit() the temporary file is removed, so a failed export never leaves a partial file.
class OutputFile {
public:
    // An empty path means stdout. Throws lethe::Error when the temporary file cannot be created.
    explicit OutputFile(std::filesystem::path path);
    ~OutputFile();
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;

    // Room for `n` more bytes, flushing first when the buffer cannot take them; write at most
    // `n` bytes at the returned pointer, then pass the end of what was written to advance().
    // Writing through a pointer, not appending to a string, is what lets an export format a
    // million entries in well under a second. Throws lethe::Error on write errors.
    char* reserve(std::size_t n) {
        if (n > m_capacity - m_used) {
            make_room(n);
        }
        return m_buf.get() + m_used;
    }
    // Marks the bytes up to `end` (from the last reserve()) as written.
    void advance(const char* end) { m_used = static_cast<std::size_t>(end - m_buf.get()); }
    // Appends `s`.
    void write(std::string_view s);
    // Writes out everything buffered. Throws lethe::Error on write errors.
    void flush();
    // Flushes, fsyncs and (for a file) renames it into place. Throws lethe::Error on failure.
    void commit();
    // Bytes written so far.
    std::uint64_t bytes() const { return m_bytes + m_used; }

private:
    void make_room(std::size_t n);
    // Starts (does not wait for) the disk write of every complete chunk written so far.
    void start_writeback();

    static constexpr std::size_t k_block = 1 << 20;
    static constexpr std::uint64_t k_writeback_chunk = 8 << 20;
    std::filesystem::path m_path;
    std::filesystem::path m_tmp;
    int m_fd = -1;
    bool m_committed = false;
    std::unique_ptr<char[]> m_buf;
    std::size_t m_capacity = 0;
    std::size_t m_used = 0;
    std::uint64_t m_bytes = 0;
    std::uint64_t m_writeback_from = 0; // where the bytes not yet handed to writeback start
};

} // namespace lethe::audit
