#pragma once

#include <cstdint>
#include <filesystem>
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

    // The buffer to append to; call flush_if_full() after appending.
    std::string& buffer() { return m_buf; }
    // Writes the buffer out once it holds a block's worth. Throws lethe::Error on write errors.
    void flush_if_full() {
        if (m_buf.size() >= k_block) {
            flush();
        }
    }
    // Appends and flushes when full.
    void write(std::string_view s) {
        m_buf.append(s);
        flush_if_full();
    }
    // Writes out everything buffered. Throws lethe::Error on write errors.
    void flush();
    // Flushes, fsyncs and (for a file) renames it into place. Throws lethe::Error on failure.
    void commit();
    // Bytes written so far.
    std::uint64_t bytes() const { return m_bytes + m_buf.size(); }

private:
    static constexpr std::size_t k_block = 1 << 20;
    std::filesystem::path m_path;
    std::filesystem::path m_tmp;
    int m_fd = -1;
    bool m_committed = false;
    std::string m_buf;
    std::uint64_t m_bytes = 0;
};

} // namespace lethe::audit
