#pragma once

#include <cstdint>
#include <filesystem>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>

namespace lethe {

// Owns a file descriptor (a file, a pipe, a socket) so every exit path closes it.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : m_fd(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}
    UniqueFd& operator=(UniqueFd&&) = delete;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    int get() const { return m_fd; }
    // Hands the descriptor over; this object no longer closes it.
    int release() {
        const int fd = m_fd;
        m_fd = -1;
        return fd;
    }
    void reset();

private:
    int m_fd = -1;
};

// What a file lethe reads holds. The kind sets the most bytes lethe reads from it and the error
// class it throws (the limits are listed in docs/operations.md, "Files lethe reads").
enum class FileKind {
    // the TOML configuration: 1 MiB; ConfigError
    config,
    // an API key, subject key, checkpoint key or intake secret: 64 KiB; ConfigError
    secret,
    // a checkpoint verifier key (`audit verify --key FILE`): 64 KiB; ConfigError
    verifier_key,
    // extra trust anchors (`ca_file` of a workspace, PEM): 4 MiB; ConfigError
    certificate,
    // a signed checkpoint (latest.note, `audit verify --checkpoint FILE`): 64 KiB; Error (failure)
    checkpoint_note,
    // the body `lethe sign` signs: 1 MiB (the intake's largest); InputError
    request_body,
    // a CSV file of requests (`lethe import`): 4 GiB; InputError
    import_csv,
    // an audit export given to `audit verify --file`: 64 GiB; Error (failure)
    audit_export,
};

// The most bytes lethe reads from a file of this kind.
std::uint64_t max_file_bytes(FileKind kind);

// A file opened for reading after checking what it is: a regular file within its kind's limit
// (or standard input, which may be a pipe: the limit then holds while reading). One owner of the
// descriptor; reads past the limit throw.
class InputFile {
public:
    // Opens `path` (never waiting on a FIFO: O_NONBLOCK until the check) and refuses anything but
    // a regular file, and a file larger than the kind's limit. Throws the kind's error class with
    // "PATH: reason" (e.g. "PATH: is a FIFO, not a regular file").
    InputFile(const std::filesystem::path& path, FileKind kind);
    // Standard input, named `name` in errors; a directory is refused. Throws as above.
    static InputFile standard_input(FileKind kind, std::string name = "stdin");
    ~InputFile();
    InputFile(InputFile&& other) noexcept;
    InputFile& operator=(InputFile&&) = delete;
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;

    // Reads up to `n` bytes into `buf`; returns 0 at the end of the file. Throws the kind's error
    // class when the file holds more than its limit or a read fails.
    std::size_t read(char* buf, std::size_t n);
    // Reads everything that is left. Throws as read().
    std::string read_all();
    // A stream over read() for the stream-based readers; its errors are thrown, not flagged
    // (exceptions(badbit) is set).
    std::istream& stream();
    // The descriptor (for fstat-based checks); owned by this object.
    int fd() const { return m_fd; }
    // What fstat said when the file was opened.
    const struct stat& status() const { return m_status; }
    // The name used in errors (the path, or "stdin").
    const std::string& name() const { return m_name; }

private:
    InputFile(int fd, FileKind kind, std::string name, bool owned);
    [[noreturn]] void fail(const std::string& reason) const;

    class StreamBuf;
    int m_fd = -1;
    bool m_owned = true;
    FileKind m_kind;
    std::string m_name;
    struct stat m_status {};
    std::uint64_t m_read = 0;
    std::unique_ptr<StreamBuf> m_buf;
    std::unique_ptr<std::istream> m_stream;
};

// Reads a whole file of `kind` through InputFile; throws as InputFile does.
std::string read_file(const std::filesystem::path& path, FileKind kind);

// "a directory", "a FIFO", "a character device", ... for an st_mode (for messages).
std::string file_type_name(mode_t mode);

// Creates `path` with mode 0600 and writes `content`, fsyncing file and directory; fails (throws
// lethe::Error) if it already exists, so an existing key is never overwritten.
void create_private_file(const std::filesystem::path& path, std::string_view content);

// Creates a new, empty temporary file beside `target` (`TARGET.tmp.PID.RANDOM`, mode 0600,
// exclusive, not through a symlink), sets `tmp` to its name and returns its descriptor, which the
// caller closes. Throws lethe::Error naming the file.
int create_temp_beside(const std::filesystem::path& target, std::filesystem::path& tmp);

// Writes `content` to `path` atomically (temp file, fsync, rename), mode 0600 for new files.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

// Makes a finished file `tmp` durable and puts it at `target` in one step: fsyncs `tmp`, renames it
// over `target` and fsyncs the directory. On failure `tmp` is left for the caller to remove.
// Throws lethe::Error naming `target`.
void rename_durably(const std::filesystem::path& tmp, const std::filesystem::path& target);

// The size of the filesystem that holds `path` and the bytes an unprivileged process may still
// write there (statvfs: f_blocks and f_bavail in f_frsize units).
struct FilesystemSpace {
    std::uint64_t size_bytes = 0;
    std::uint64_t avail_bytes = 0;
};
// nullopt when statvfs fails (the path is gone).
std::optional<FilesystemSpace> filesystem_space(const std::filesystem::path& path);

// Resolves `p` against `base_dir` when relative.
std::filesystem::path resolve_path(const std::filesystem::path& base_dir,
                                   const std::filesystem::path& p);

} // namespace lethe
