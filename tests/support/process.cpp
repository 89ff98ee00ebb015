#include "support/process.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace lethe::test {
namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::filesystem::path capture_path(const char* kind) {
    static std::atomic<int> counter{0};
    return std::filesystem::temp_directory_path() / ("lethe-proc-" + std::to_string(::getpid()) +
                                                     "-" + std::to_string(counter++) + "." + kind);
}

std::vector<std::string> build_env(const ProcessOptions& options) {
    std::map<std::string, std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string::npos) {
            env[kv.substr(0, eq)] = kv.substr(eq + 1);
        }
    }
    for (const auto& name : options.unset_env) {
        env.erase(name);
    }
    for (const auto& [k, v] : options.env) {
        env[k] = v;
    }
    std::vector<std::string> out;
    for (const auto& [k, v] : env) {
        out.push_back(k + "=" + v);
    }
    return out;
}

} // namespace

Process::Process(const std::vector<std::string>& argv, const ProcessOptions& options)
    : m_out_path(capture_path("out")), m_err_path(capture_path("err")) {
    int in_pipe[2] = {-1, -1};
    if (options.stdin_data && ::pipe(in_pipe) != 0) {
        throw std::runtime_error("pipe failed");
    }
    auto env_strings = build_env(options);
    std::vector<char*> envp;
    for (auto& s : env_strings) {
        envp.push_back(s.data());
    }
    envp.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> cargv;
    for (auto& a : args) {
        cargv.push_back(a.data());
    }
    cargv.push_back(nullptr);

    m_pid = ::fork();
    if (m_pid < 0) {
        throw std::runtime_error("fork failed");
    }
    if (m_pid == 0) {
        if (options.stdin_data) {
            ::dup2(in_pipe[0], 0);
            ::close(in_pipe[0]);
            ::close(in_pipe[1]);
        } else {
            int devnull = ::open("/dev/null", O_RDONLY);
            ::dup2(devnull, 0);
        }
        int out = ::open(m_out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = ::open(m_err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(out, 1);
        ::dup2(err, 2);
        if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) {
            ::_exit(126);
        }
        ::execve(cargv[0], cargv.data(), envp.data());
        ::_exit(127);
    }
    if (options.stdin_data) {
        ::close(in_pipe[0]);
        const std::string& data = *options.stdin_data;
        std::size_t off = 0;
        std::signal(SIGPIPE, SIG_IGN);
        while (off < data.size()) {
            ssize_t n = ::write(in_pipe[1], data.data() + off, data.size() - off);
            if (n <= 0) {
                break;
            }
            off += static_cast<std::size_t>(n);
        }
        ::close(in_pipe[1]);
    }
}

Process::~Process() {
    if (!m_reaped && m_pid > 0) {
        ::kill(m_pid, SIGKILL);
        int status = 0;
        ::waitpid(m_pid, &status, 0);
    }
    std::error_code ec;
    std::filesystem::remove(m_out_path, ec);
    std::filesystem::remove(m_err_path, ec);
}

void Process::signal(int sig) {
    if (!m_reaped) {
        ::kill(m_pid, sig);
    }
}

ProcessResult Process::collect(int status) {
    m_reaped = true;
    ProcessResult r;
    if (WIFEXITED(status)) {
        r.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        r.signal = WTERMSIG(status);
    }
    r.out = slurp(m_out_path);
    r.err = slurp(m_err_path);
    return r;
}

std::optional<ProcessResult> Process::wait_for(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        int status = 0;
        pid_t r = ::waitpid(m_pid, &status, WNOHANG);
        if (r == m_pid) {
            return collect(status);
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

ProcessResult Process::wait(std::chrono::milliseconds timeout) {
    if (auto r = wait_for(timeout)) {
        return *r;
    }
    ::kill(m_pid, SIGKILL);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
    auto r = collect(status);
    r.err += "\n[test harness: killed after timeout]";
    return r;
}

std::string Process::stdout_so_far() const {
    return slurp(m_out_path);
}
std::string Process::stderr_so_far() const {
    return slurp(m_err_path);
}

ProcessResult run(const std::vector<std::string>& argv, const ProcessOptions& options,
                  std::chrono::milliseconds timeout) {
    Process p(argv, options);
    return p.wait(timeout);
}

namespace {
std::string env_or_throw(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') {
        throw std::runtime_error(std::string(name) + " is not set; run the tests through meson");
    }
    return v;
}
} // namespace

std::string lethe_bin() {
    return env_or_throw("LETHE_BIN");
}
std::string sandbox_bin() {
    return env_or_throw("LETHE_SANDBOX_BIN");
}
std::filesystem::path source_root() {
    return env_or_throw("LETHE_SOURCE_ROOT");
}

int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        throw std::runtime_error("bind failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    int port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
}

} // namespace lethe::test
