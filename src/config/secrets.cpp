#include "config/secrets.hpp"

#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <poll.h>
#include <pwd.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace lethe::config {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t k_max_stdout_bytes = 1 << 20;
constexpr std::size_t k_max_stderr_bytes = 16 << 10;
constexpr std::size_t k_max_error_detail = 300;
constexpr auto k_term_grace = std::chrono::milliseconds(1'000);
constexpr auto k_poll_slice = std::chrono::milliseconds(50);

std::string errno_text(int err) {
    return std::strerror(err);
}

std::string user_name(uid_t uid) {
    // getpwuid_r because the worker may resolve secrets from a reload thread.
    std::vector<char> buf(4096);
    passwd pw{};
    passwd* result = nullptr;
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &result) == 0 && result != nullptr) {
        return result->pw_name;
    }
    return std::to_string(uid);
}

std::string octal_mode(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

const char* credentials_directory() {
    const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
    return (dir != nullptr && *dir != '\0') ? dir : nullptr;
}

// Applies the ssh-like policy to an open descriptor, so the file checked is the file read.
void check_private_fd(int fd, const std::filesystem::path& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        throw ConfigError(path.string() + ": cannot stat: " + errno_text(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        throw ConfigError(path.string() + ": not a regular file");
    }
    if (is_systemd_credential(path)) {
        return;
    }
    // chmod and chown follow a symlink: the fix for a link is to name the real file, not to change
    // a target that may be shared (a file in /etc/ssl, another service's key).
    struct stat link {};
    if (::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
        const uid_t me = ::geteuid();
        std::error_code ec;
        const auto target = std::filesystem::read_symlink(path, ec);
        std::string problem;
        if (st.st_uid != me) {
            problem =
                "is owned by " + user_name(st.st_uid) + ", but lethe runs as " + user_name(me);
        } else if ((st.st_mode & 077) != 0) {
            problem = "has permissions " + octal_mode(st.st_mode) +
                      ", too open (group or others may access it)";
        }
        if (!problem.empty()) {
            throw ConfigError(path.string() + ": is a symbolic link to " + target.string() +
                              ", which " + problem +
                              "; point the configuration at the real file, owned by the user "
                              "lethe runs as with mode 0600, rather than through a link");
        }
        return;
    }
    const uid_t me = ::geteuid();
    if (st.st_uid != me) {
        const std::string owner = user_name(st.st_uid);
        // Root running a command by hand on the service's files: chown would take the file away
        // from the service, so the first fix offered is to run as its owner.
        const std::string fix = me == 0 ? "run lethe as its owner (`sudo -u " + owner +
                                              " lethe …`), or `chown root " + path.string() +
                                              "` if root is meant to own it"
                                        : "run `chown " + user_name(me) + " " + path.string() + "`";
        throw ConfigError(path.string() + ": owned by " + owner + ", but lethe runs as " +
                          user_name(me) +
                          "; a secret file must belong to the user that reads it: " + fix);
    }
    if ((st.st_mode & 077) != 0) {
        throw ConfigError(path.string() + ": permissions " + octal_mode(st.st_mode) +
                          " are too open (group or others may access it); run `chmod 600 " +
                          path.string() + "`");
    }
}

void strip_line_ends(std::string& s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
        s.pop_back();
    }
}

// The lines of `s` without their CR/LF ends (a value of several lines: the intake's secrets).
std::vector<std::string> split_lines(std::string_view s) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= s.size()) {
        std::size_t end = s.find('\n', start);
        std::string line(s.substr(start, end == std::string_view::npos ? s.npos : end - start));
        strip_line_ends(line);
        lines.push_back(std::move(line));
        if (end == std::string_view::npos) {
            break;
        }
        start = end + 1;
    }
    return lines;
}

// Makes child output safe to put in a one-line error: no control characters, bounded length.
std::string printable(std::string_view s) {
    std::string out;
    for (char ch : s.substr(0, k_max_error_detail)) {
        auto c = static_cast<unsigned char>(ch);
        out.push_back(c < 0x20 || c == 0x7f ? '?' : ch);
    }
    if (s.size() > k_max_error_detail) {
        out += "...";
    }
    return out;
}

std::string last_nonempty_line(std::string_view text) {
    std::string_view best;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        std::string_view line =
            text.substr(start, end == std::string_view::npos ? text.size() - start : end - start);
        while (!line.empty() &&
               (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
            line.remove_suffix(1);
        }
        if (!line.empty()) {
            best = line;
        }
        if (end == std::string_view::npos) {
            break;
        }
        start = end + 1;
    }
    return std::string(best);
}

void replace_all(std::string& text, std::string_view needle, std::string_view with) {
    if (needle.empty()) {
        return;
    }
    std::size_t pos = 0;
    while ((pos = text.find(needle, pos)) != std::string::npos) {
        text.replace(pos, needle.size(), with);
        pos += with.size();
    }
}

// ---- running a *_command ------------------------------------------------------------------

struct CommandOutcome {
    int status = 0;  // raw waitpid status
    std::string out; // stdout (bounded)
    std::string err; // stderr (bounded)
};

class SpawnFileActions {
public:
    SpawnFileActions() { ::posix_spawn_file_actions_init(&m_fa); }
    ~SpawnFileActions() { ::posix_spawn_file_actions_destroy(&m_fa); }
    SpawnFileActions(const SpawnFileActions&) = delete;
    SpawnFileActions& operator=(const SpawnFileActions&) = delete;
    posix_spawn_file_actions_t* get() { return &m_fa; }

private:
    posix_spawn_file_actions_t m_fa{};
};

class SpawnAttr {
public:
    SpawnAttr() { ::posix_spawnattr_init(&m_attr); }
    ~SpawnAttr() { ::posix_spawnattr_destroy(&m_attr); }
    SpawnAttr(const SpawnAttr&) = delete;
    SpawnAttr& operator=(const SpawnAttr&) = delete;
    posix_spawnattr_t* get() { return &m_attr; }

private:
    posix_spawnattr_t m_attr{};
};

// Reads what is available from `fd` into `into` (keeping at most `cap` bytes); returns false at
// end of file or on a read error.
bool read_available(int fd, std::string& into, std::size_t cap) {
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            std::size_t room = cap > into.size() ? cap - into.size() : 0;
            into.append(buf, std::min(room, static_cast<std::size_t>(n)));
            continue;
        }
        if (n == 0) {
            return false;
        }
        if (errno == EINTR) {
            continue;
        }
        return errno == EAGAIN || errno == EWOULDBLOCK;
    }
}

// Waits up to `limit` for `pid` to exit; returns true and sets `status` when it did.
bool wait_exit(pid_t pid, int& status, std::chrono::milliseconds limit) {
    auto until = Clock::now() + limit;
    for (;;) {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            return true;
        }
        if (r < 0 && errno != EINTR) {
            status = 0;
            return true; // ECHILD: someone else reaped it (SIGCHLD ignored); nothing to wait for
        }
        if (Clock::now() >= until) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

// Runs argv with stdin from /dev/null and stdout/stderr captured, in its own process group so a
// time-out can end everything it started. Throws ConfigError (prefixed by `what`) when it cannot
// start or does not finish in time.
CommandOutcome run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                           const std::string& what, const std::string& timeout_key) {
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
        throw ConfigError(what + ": pipe: " + errno_text(errno));
    }
    UniqueFd out_r(out_pipe[0]);
    UniqueFd out_w(out_pipe[1]);
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
        throw ConfigError(what + ": pipe: " + errno_text(errno));
    }
    UniqueFd err_r(err_pipe[0]);
    UniqueFd err_w(err_pipe[1]);

    SpawnFileActions fa;
    ::posix_spawn_file_actions_addopen(fa.get(), 0, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_adddup2(fa.get(), out_w.get(), 1);
    ::posix_spawn_file_actions_adddup2(fa.get(), err_w.get(), 2);
    // Nothing of lethe's (database, sockets) is inherited, whatever its close-on-exec flag.
    ::posix_spawn_file_actions_addclosefrom_np(fa.get(), 3);

    SpawnAttr attr;
    // The caller may block signals (a worker waiting for SIGHUP with sigwait); the command must
    // start with a clean mask and default handlers, or SIGTERM on time-out would not end it.
    sigset_t none;
    sigemptyset(&none);
    sigset_t all;
    sigfillset(&all);
    ::posix_spawnattr_setsigmask(attr.get(), &none);
    ::posix_spawnattr_setsigdefault(attr.get(), &all);
    ::posix_spawnattr_setpgroup(attr.get(), 0);
    ::posix_spawnattr_setflags(attr.get(), POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                               POSIX_SPAWN_SETPGROUP);

    std::vector<char*> cargv;
    std::vector<std::string> args = argv;
    for (auto& a : args) {
        cargv.push_back(a.data());
    }
    cargv.push_back(nullptr);

    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, cargv[0], fa.get(), attr.get(), cargv.data(), environ);
    if (rc != 0) {
        throw ConfigError(what + ": cannot run `" + argv[0] + "`: " + errno_text(rc));
    }
    out_w.reset();
    err_w.reset();
    ::fcntl(out_r.get(), F_SETFL, O_NONBLOCK);
    ::fcntl(err_r.get(), F_SETFL, O_NONBLOCK);

    CommandOutcome result;
    bool out_open = true;
    bool err_open = true;
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        pollfd fds[2];
        nfds_t n = 0;
        if (out_open) {
            fds[n++] = {out_r.get(), POLLIN, 0};
        }
        if (err_open) {
            fds[n++] = {err_r.get(), POLLIN, 0};
        }
        auto remaining =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        auto slice = std::max(std::chrono::milliseconds(0), std::min(remaining, k_poll_slice));
        if (n > 0) {
            ::poll(fds, n, static_cast<int>(slice.count()));
        } else {
            // Both pipes are closed: the command is exiting (or left a background child).
            std::this_thread::sleep_for(std::min(slice, std::chrono::milliseconds(5)));
        }
        if (out_open) {
            out_open = read_available(out_r.get(), result.out, k_max_stdout_bytes);
        }
        if (err_open) {
            err_open = read_available(err_r.get(), result.err, k_max_stderr_bytes);
        }
        // The exit of the command ends the wait even when something it started in the background
        // still holds the pipes open.
        pid_t r = ::waitpid(pid, &result.status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) {
            if (out_open) {
                read_available(out_r.get(), result.out, k_max_stdout_bytes);
            }
            if (err_open) {
                read_available(err_r.get(), result.err, k_max_stderr_bytes);
            }
            if (r < 0) {
                throw ConfigError(what + ": lost track of `" + argv[0] + "` (is SIGCHLD ignored?)");
            }
            return result;
        }
        if (Clock::now() >= deadline) {
            ::kill(-pid, SIGTERM);
            int status = 0;
            if (!wait_exit(pid, status, k_term_grace)) {
                ::kill(-pid, SIGKILL);
                wait_exit(pid, status, std::chrono::milliseconds(5'000));
            }
            throw ConfigError(what + ": `" + argv[0] + "` did not finish within " +
                              std::to_string(timeout.count()) +
                              " ms and was killed; run it by hand to see why, or raise " +
                              timeout_key);
        }
    }
}

// ---- redaction registry -------------------------------------------------------------------

struct RedactionRegistry {
    std::mutex mutex;
    std::vector<std::string> values; // longest first, so a secret inside another goes second
};

RedactionRegistry& registry() {
    static RedactionRegistry r;
    return r;
}

// ---- the sources --------------------------------------------------------------------------

struct SourceContext {
    const SecretSpec& spec;
    std::string prefix; // "FILE: customerio.api_key" or "customerio.api_key"
    std::string key;    // "customerio.api_key"
};

Secret from_file(const SourceContext& c, const std::filesystem::path& path, std::string origin) {
    std::string value = read_private_file(path);
    strip_line_ends(value);
    if (value.empty()) {
        throw ConfigError(c.prefix + ": " + path.string() + " is empty");
    }
    return {std::move(value), std::move(origin)};
}

Secret from_command(const SourceContext& c, std::chrono::milliseconds timeout) {
    auto argv = split_command(c.spec.command);
    const std::string what = c.prefix + "_command";
    CommandOutcome o =
        run_command(argv, timeout, what,
                    c.spec.command_timeout_key.empty() ? c.key + "_command_timeout_ms"
                                                       : c.spec.command_timeout_key);
    std::string value = c.spec.command_all_lines ? o.out : o.out.substr(0, o.out.find('\n'));
    strip_line_ends(value);
    const std::vector<std::string> value_lines = split_lines(value);
    std::string err_text = o.err;
    for (const auto& line : value_lines) {
        replace_all(err_text, line, "[redacted]");
    }
    // The command's stderr (gcloud/vault notices) goes to the log, not to our stderr, so it
    // keeps the log format and passes the redaction backstop.
    for (const auto& line : split_lines(err_text)) {
        if (!line.empty()) {
            spdlog::debug("{}_command: `{}` stderr: {}", c.key, argv[0], printable(line));
        }
    }
    std::string detail = last_nonempty_line(err_text);
    std::string suffix = detail.empty() ? "" : " (stderr: " + printable(detail) + ")";
    if (WIFSIGNALED(o.status)) {
        throw ConfigError(what + ": `" + argv[0] + "` was killed by signal " +
                          std::to_string(WTERMSIG(o.status)) + suffix);
    }
    if (WIFEXITED(o.status) && WEXITSTATUS(o.status) != 0) {
        throw ConfigError(what + ": `" + argv[0] + "` exited with status " +
                          std::to_string(WEXITSTATUS(o.status)) + suffix);
    }
    if (value.empty()) {
        throw ConfigError(what + ": `" + argv[0] + "` printed nothing on its first line" + suffix);
    }
    // Not registered for redaction here: only a value that passes every check is (a rejected one
    // registered would mark its characters in every later message).
    return {std::move(value), "command " + argv[0]};
}

Secret from_env(const SourceContext& c) {
    const char* v = std::getenv(c.spec.env.c_str());
    if (v == nullptr) {
        throw ConfigError(c.prefix + "_env: environment variable " + c.spec.env + " is not set");
    }
    std::string value(v);
    strip_line_ends(value);
    if (value.empty()) {
        throw ConfigError(c.prefix + "_env: environment variable " + c.spec.env + " is empty");
    }
    return {std::move(value), "environment " + c.spec.env};
}

} // namespace

bool is_systemd_credential(const std::filesystem::path& path) {
    const char* dir = credentials_directory();
    if (dir == nullptr) {
        return false;
    }
    auto d = std::filesystem::path(dir).lexically_normal();
    if (!d.has_filename()) {
        d = d.parent_path(); // "/run/credentials/x/" → "/run/credentials/x"
    }
    return path.lexically_normal().parent_path() == d;
}

std::filesystem::path secret_file_path(std::string_view name,
                                       const std::filesystem::path& configured_file) {
    if (const char* dir = credentials_directory(); dir != nullptr && !name.empty()) {
        std::filesystem::path p = std::filesystem::path(dir) / std::string(name);
        std::error_code ec;
        if (std::filesystem::exists(p, ec)) {
            return p;
        }
    }
    return configured_file;
}

void check_private_file(const std::filesystem::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (fd.get() < 0) {
        throw ConfigError(path.string() + ": cannot open: " + errno_text(errno));
    }
    check_private_fd(fd.get(), path);
}

std::string read_private_file(const std::filesystem::path& path) {
    // InputFile refuses a FIFO or device planted at the path (without blocking on the open) and
    // bounds the read; the policy is checked on the same descriptor.
    InputFile file(path, FileKind::secret);
    check_private_fd(file.fd(), path);
    return file.read_all();
}

std::vector<std::string> split_command(std::string_view command) {
    std::vector<std::string> argv;
    std::string word;
    bool in_word = false;
    for (std::size_t i = 0; i < command.size(); ++i) {
        char ch = command[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
            if (in_word) {
                argv.push_back(std::move(word));
                word.clear();
                in_word = false;
            }
            continue;
        }
        in_word = true;
        if (ch == '\'') {
            std::size_t end = command.find('\'', i + 1);
            if (end == std::string_view::npos) {
                throw ConfigError("unterminated ' in command");
            }
            word.append(command.substr(i + 1, end - i - 1));
            i = end;
        } else if (ch == '"') {
            std::size_t j = i + 1;
            for (; j < command.size() && command[j] != '"'; ++j) {
                if (command[j] == '\\' && j + 1 < command.size() &&
                    (command[j + 1] == '"' || command[j + 1] == '\\')) {
                    ++j;
                }
                word.push_back(command[j]);
            }
            if (j >= command.size()) {
                throw ConfigError("unterminated \" in command");
            }
            i = j;
        } else if (ch == '\\') {
            if (i + 1 >= command.size()) {
                throw ConfigError("command ends with a lone \\");
            }
            word.push_back(command[++i]);
        } else {
            word.push_back(ch);
        }
    }
    if (in_word) {
        argv.push_back(std::move(word));
    }
    if (argv.empty()) {
        throw ConfigError("empty command");
    }
    return argv;
}

namespace {

// resolve_secret without the registration, for callers that check the value further first.
Secret resolve_unregistered(const SecretSpec& spec, std::chrono::milliseconds command_timeout) {
    std::string key = spec.config_prefix.empty() ? spec.name : spec.config_prefix;
    std::string prefix = spec.config_file.empty() ? key : spec.config_file.string() + ": " + key;
    SourceContext c{spec, prefix, key};

    std::vector<std::string> configured;
    if (!spec.file.empty()) {
        configured.push_back(key + "_file");
    }
    if (!spec.command.empty()) {
        configured.push_back(key + "_command");
    }
    if (!spec.env.empty()) {
        configured.push_back(key + "_env");
    }
    const std::string choices = key + "_file, " + key + "_command or " + key + "_env";
    if (configured.size() > 1) {
        std::string list;
        for (const auto& k : configured) {
            list += (list.empty() ? "" : ", ") + k;
        }
        throw ConfigError(prefix + ": several sources are configured (" + list +
                          "); keep exactly one of " + choices);
    }

    // Errors from below name the file or the command; this adds which key configured it.
    auto with_context = [&](const std::string& label, auto&& read) -> Secret {
        try {
            return read();
        } catch (const ConfigError& e) {
            std::string msg = e.what();
            if (msg.rfind(prefix, 0) == 0) {
                throw;
            }
            throw ConfigError(prefix + label + ": " + msg);
        }
    };
    Secret secret;
    std::filesystem::path credential = secret_file_path(spec.name, "");
    if (!credential.empty()) {
        secret = with_context(" (systemd credential " + spec.name + ")", [&] {
            return from_file(c, credential, "systemd credential " + spec.name);
        });
    } else if (configured.empty()) {
        throw ConfigError(prefix + ": no source is configured; set one of " + choices +
                          (spec.name.empty() ? std::string()
                                             : " (or pass the systemd credential " + spec.name +
                                                   " with LoadCredential=)"));
    } else if (!spec.file.empty()) {
        secret =
            with_context("_file", [&] { return from_file(c, spec.file, "file " + spec.file); });
    } else if (!spec.command.empty()) {
        secret = with_context("_command", [&] { return from_command(c, command_timeout); });
    } else {
        secret = from_env(c);
    }
    // A key is one line of printable text: a line break inside (a file of two lines) or another
    // control character would also end up in an HTTP header.
    if (!spec.command_all_lines && has_control_chars(secret.value)) {
        throw ConfigError(prefix + " (" + secret.origin +
                          "): holds a line break or another control character; a key is one "
                          "line of text");
    }
    spdlog::debug("{}: read from {}", key, secret.origin);
    return secret;
}

} // namespace

Secret resolve_secret(const SecretSpec& spec, std::chrono::milliseconds command_timeout) {
    Secret secret = resolve_unregistered(spec, command_timeout);
    register_secret_for_redaction(secret.value);
    return secret;
}

namespace {

std::string workspace_credential(const char* base, const WorkspaceSection& ws) {
    return ws.from_customerio_section ? std::string(base) : std::string(base) + "." + ws.name;
}

std::string workspace_prefix(const WorkspaceSection& ws) {
    return ws.from_customerio_section ? std::string("customerio.") : "workspace." + ws.name + ".";
}

} // namespace

std::string track_api_key_credential(const WorkspaceSection& workspace) {
    return workspace_credential(k_track_api_key_credential, workspace);
}

std::string app_api_key_credential(const WorkspaceSection& workspace) {
    return workspace_credential(k_app_api_key_credential, workspace);
}

bool WorkspaceSection::has_app_api_key() const {
    return !app_api_key_file.empty() || !app_api_key_env.empty() || !app_api_key_command.empty() ||
           !secret_file_path(app_api_key_credential(*this), "").empty();
}

SecretSpec track_api_key_spec(const Config& config, const WorkspaceSection& workspace) {
    SecretSpec spec;
    spec.name = track_api_key_credential(workspace);
    spec.file = workspace.api_key_file;
    spec.command = workspace.api_key_command;
    spec.env = workspace.api_key_env;
    spec.config_prefix = workspace_prefix(workspace) + "api_key";
    spec.config_file = config.source;
    return spec;
}

Secret resolve_track_api_key(const Config& config, const WorkspaceSection& workspace) {
    Secret s = resolve_secret(track_api_key_spec(config, workspace),
                              std::chrono::milliseconds(workspace.api_key_command_timeout_ms));
    register_secret_for_redaction(base64_encode(workspace.site_id + ":" + s.value));
    return s;
}

SecretSpec app_api_key_spec(const Config& config, const WorkspaceSection& workspace) {
    SecretSpec spec;
    spec.name = app_api_key_credential(workspace);
    spec.file = workspace.app_api_key_file;
    spec.command = workspace.app_api_key_command;
    spec.env = workspace.app_api_key_env;
    spec.config_prefix = workspace_prefix(workspace) + "app_api_key";
    spec.command_timeout_key = workspace_prefix(workspace) + "api_key_command_timeout_ms";
    spec.config_file = config.source;
    return spec;
}

std::optional<Secret> resolve_app_api_key(const Config& config, const WorkspaceSection& workspace) {
    if (!workspace.has_app_api_key()) {
        return std::nullopt;
    }
    Secret s = resolve_secret(app_api_key_spec(config, workspace),
                              std::chrono::milliseconds(workspace.api_key_command_timeout_ms));
    register_secret_for_redaction("Bearer " + s.value);
    return s;
}

std::string sender_secret_credential(const SenderSection& sender) {
    return sender.from_intake_section ? std::string(k_intake_secret_credential)
                                      : std::string(k_intake_secret_credential) + "." + sender.name;
}

SecretSpec sender_secret_spec(const Config& config, const SenderSection& sender) {
    SecretSpec spec;
    spec.name = sender_secret_credential(sender);
    spec.file = sender.secret_file;
    spec.command = sender.secret_command;
    spec.env = sender.secret_env;
    spec.command_all_lines = true; // current, then next during a rotation
    spec.config_prefix =
        sender.from_intake_section ? "intake.secret" : "intake.sender." + sender.name + ".secret";
    spec.config_file = config.source;
    return spec;
}

namespace {

// The first sender; for a Config built in code without senders, the [intake] one.
SenderSection first_sender(const Config& config) {
    return config.intake.senders.empty() ? legacy_sender(config.intake)
                                         : config.intake.senders.front();
}

} // namespace

SecretSpec intake_secret_spec(const Config& config) {
    return sender_secret_spec(config, first_sender(config));
}

// Shorter intake secrets are accepted with a warning.
constexpr std::size_t k_min_intake_secret_bytes = 32;

IntakeSecrets resolve_sender_secrets(const Config& config, const SenderSection& sender) {
    // Registered for redaction only once every line passed its checks.
    const SecretSpec spec = sender_secret_spec(config, sender);
    Secret s =
        resolve_unregistered(spec, std::chrono::milliseconds(sender.secret_command_timeout_ms));
    std::vector<std::string> lines = split_lines(s.value);
    const std::string where =
        (config.source.empty() ? std::string() : config.source.string() + ": ") +
        spec.config_prefix + " (" + s.origin + ")";
    if (lines.size() > 2) {
        throw ConfigError(where + ": holds " + std::to_string(lines.size()) +
                          " lines; expected one secret, or two (current, then next) during a "
                          "rotation");
    }
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].empty()) {
            throw ConfigError(where + ": has an empty line");
        }
        if (has_control_chars(lines[i])) {
            throw ConfigError(where + ": line " + std::to_string(i + 1) +
                              " holds a control character");
        }
    }
    for (const auto& line : lines) {
        register_secret_for_redaction(line);
    }
    for (std::size_t i = 0; i < lines.size(); ++i) {
        // A short secret lets anyone holding one signed request search for it offline. Warned,
        // not refused: the sender's platform may dictate it, and refusing would stop the intake.
        if (lines[i].size() < k_min_intake_secret_bytes) {
            spdlog::warn("{}: line {} is only {} bytes long; use at least {} random bytes (for "
                         "example `openssl rand -hex 32`)",
                         where, i + 1, lines[i].size(), k_min_intake_secret_bytes);
        }
    }
    return {std::move(lines), std::move(s.origin)};
}

IntakeSecrets resolve_intake_secrets(const Config& config) {
    return resolve_sender_secrets(config, first_sender(config));
}

std::vector<SenderSecrets> resolve_all_sender_secrets(const Config& config) {
    std::vector<SenderSecrets> all;
    for (const auto& sender : config.intake.senders) {
        all.push_back({&sender, resolve_sender_secrets(config, sender)});
    }
    // A secret shared by two senders would make the sender of a request a guess: refused, so
    // that a signature names exactly one sender (docs/intake.md, "Senders").
    for (std::size_t i = 0; i < all.size(); ++i) {
        for (std::size_t j = i + 1; j < all.size(); ++j) {
            for (const auto& a : all[i].secrets.keys) {
                for (const auto& b : all[j].secrets.keys) {
                    if (a == b) {
                        throw ConfigError((config.source.empty() ? std::string()
                                                                 : config.source.string() + ": ") +
                                          "intake senders \"" + all[i].sender->name + "\" and \"" +
                                          all[j].sender->name +
                                          "\" have the same secret; each sender needs its own");
                    }
                }
            }
        }
    }
    return all;
}

void register_secret_for_redaction(std::string_view value) {
    if (value.empty()) {
        return;
    }
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    if (std::find(r.values.begin(), r.values.end(), value) != r.values.end()) {
        return;
    }
    r.values.emplace_back(value);
    std::stable_sort(
        r.values.begin(), r.values.end(),
        [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

bool redact_secrets(std::string& text) {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    bool changed = false;
    for (const auto& v : r.values) {
        if (text.find(v) != std::string::npos) {
            replace_all(text, v, "[redacted]");
            changed = true;
        }
    }
    return changed;
}

std::string base64_encode(std::string_view bytes) {
    static constexpr char k_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        auto n = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
        out.push_back(k_alphabet[(n >> 18) & 63]);
        out.push_back(k_alphabet[(n >> 12) & 63]);
        out.push_back(k_alphabet[(n >> 6) & 63]);
        out.push_back(k_alphabet[n & 63]);
    }
    if (i + 1 == bytes.size()) {
        auto n = static_cast<unsigned char>(bytes[i]) << 16;
        out.push_back(k_alphabet[(n >> 18) & 63]);
        out.push_back(k_alphabet[(n >> 12) & 63]);
        out += "==";
    } else if (i + 2 == bytes.size()) {
        auto n = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8);
        out.push_back(k_alphabet[(n >> 18) & 63]);
        out.push_back(k_alphabet[(n >> 12) & 63]);
        out.push_back(k_alphabet[(n >> 6) & 63]);
        out.push_back('=');
    }
    return out;
}

} // namespace lethe::config
