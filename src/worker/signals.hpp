#pragma once

#include <atomic>
#include <functional>
#include <pthread.h>
#include <thread>

namespace lethe::worker {

// Turns SIGTERM/SIGINT into a stop request and SIGHUP into a reload, on a dedicated thread
// (sigwait), so no work happens inside a signal handler. Construct it before starting any other
// thread: the signals are blocked in the constructing thread and inherited by later threads.
class SignalWatcher {
public:
    SignalWatcher(std::function<void()> on_stop, std::function<void()> on_reload);
    ~SignalWatcher();
    SignalWatcher(const SignalWatcher&) = delete;
    SignalWatcher& operator=(const SignalWatcher&) = delete;

private:
    void loop();
    std::function<void()> m_on_stop;
    std::function<void()> m_on_reload;
    std::atomic<bool> m_exiting{false}; // set by the destructor before it sends SIGUSR2
    std::thread m_thread;
};

} // namespace lethe::worker
