#pragma once

#include <functional>
#include <thread>

namespace lethe::sandbox {

// Turns SIGTERM/SIGINT into `on_stop` and SIGHUP into `on_reload`, called on a dedicated
// sigwait thread (never inside a signal handler). Construct it before any other thread starts:
// the signals are blocked here and later threads inherit the mask.
class SignalThread {
public:
    SignalThread(std::function<void()> on_stop, std::function<void()> on_reload);
    ~SignalThread();
    SignalThread(const SignalThread&) = delete;
    SignalThread& operator=(const SignalThread&) = delete;

private:
    void loop();
    std::function<void()> m_on_stop;
    std::function<void()> m_on_reload;
    std::thread m_thread;
};

} // namespace lethe::sandbox
