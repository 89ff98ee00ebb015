#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace lethe {

// Reads a whole file; throws lethe::Error (config) naming the file on failure.
std::string read_file(const std::filesystem::path& path);

// Creates `path` with mode 0600 and writes `content`, fsyncing file and directory; fails (throws
// lethe::Error) if it already exists, so an existing key is never overwritten.
void create_private_file(const std::filesystem::path& path, std::string_view content);

// Creates a new, empty temporary file beside `target` (`TARGET.tmp.PID.RANDOM`, mode 0600,
// exclusive, not through a symlink), sets `tmp` to its name and returns its descriptor, which the
// caller closes. Throws lethe::Error naming the file.
int create_temp_beside(const std::filesystem::path& target, std::filesystem::path& tmp);

// Writes `content` to `path` atomically (temp file, fsync, rename), mode 0600 for new files.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

// Resolves `p` against `base_dir` when relative.
std::filesystem::path resolve_path(const std::filesystem::path& base_dir,
                                   const std::filesystem::path& p);

} // namespace lethe
