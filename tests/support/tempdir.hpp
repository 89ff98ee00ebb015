#pragma once

#include <filesystem>

namespace lethe::test {

// A fresh directory under $TMPDIR, removed with everything in it when the object dies.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }
    std::filesystem::path operator/(const std::filesystem::path& p) const { return m_path / p; }

private:
    std::filesystem::path m_path;
};

// Writes a file (creating parent folders).
void write_text(const std::filesystem::path& path, const std::string& content);
// Reads a whole file.
std::string read_text(const std::filesystem::path& path);

} // namespace lethe::test
