#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lethe::test {

// Result of a finished child process.
struct ProcessResult {
    int exit_code = -1; // exit status, or -1 when killed by a signal
    int signal = 0;     // the terminating signal, or 0
    std::string out;    // everything written to stdout
    std::string err;    // everything written to stderr
};

// Options for starting a child.
struct ProcessOptions {
    std::map<std::string, std::string> env; // added to (or replacing in) the parent's environment
    std::vector<std::string> unset_env;     // removed from the environment
    std::optional<std::string> stdin_data;  // written to stdin, then closed (else /dev/null)
    std::filesystem::path cwd;              // working directory (empty: inherit)
};

// A running child with stdout/stderr captured to files; killed (SIGKILL) if still alive at
// destruction.
class Process {
public:
    Process(const std::vector<std::string>& argv, const ProcessOptions& options = {});
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    int pid() const { return m_pid; }
    // Sends a signal.
    void signal(int sig);
    // Waits up to `timeout` for exit; nullopt on timeout (the child keeps running).
    std::optional<ProcessResult> wait_for(std::chrono::milliseconds timeout);
    // Waits for exit (kills with SIGKILL after `timeout`).
    ProcessResult wait(std::chrono::milliseconds timeout = std::chrono::seconds(120));
    // What the child has written to stdout / stderr so far.
    std::string stdout_so_far() const;
    std::string stderr_so_far() const;

private:
    ProcessResult collect(int status);
    int m_pid = -1;
    bool m_reaped = false;
    std::filesystem::path m_out_path;
    std::filesystem::path m_err_path;
};

// Runs a command to completion.
ProcessResult run(const std::vector<std::string>& argv, const ProcessOptions& options = {},
                  std::chrono::milliseconds timeout = std::chrono::seconds(120));

// Path of the lethe binary under test ($LETHE_BIN), of the sandbox ($LETHE_SANDBOX_BIN), and the
// source tree ($LETHE_SOURCE_ROOT).
std::string lethe_bin();
std::string sandbox_bin();
std::filesystem::path source_root();

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

} // namespace lethe::test
