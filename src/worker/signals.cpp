#include "worker/signals.hpp"

#include <csignal>

namespace lethe::worker {
namespace {

// SIGUSR2 is only used to wake the watcher thread when it is destroyed.
sigset_t watched_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR2);
    return set;
}

} // namespace

SignalWatcher::SignalWatcher(std::function<void()> on_stop, std::function<void()> on_reload)
    : m_on_stop(std::move(on_stop)), m_on_reload(std::move(on_reload)) {
    sigset_t set = watched_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    m_thread = std::thread([this] { loop(); });
}

SignalWatcher::~SignalWatcher() {
    m_exiting = true;
    pthread_kill(m_thread.native_handle(), SIGUSR2);
    m_thread.join();
    // The signals stay blocked: a second SIGTERM during shutdown must not kill the process.
}

void SignalWatcher::loop() {
    sigset_t set = watched_signals();
    while (true) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) {
            continue;
        }
        if (sig == SIGUSR2) {
            // Only our destructor's wake-up ends the watcher: a stray `kill -USR2` from outside
            // must not leave SIGTERM blocked with nobody waiting for it.
            if (m_exiting) {
                return;
            }
            continue;
        }
        if (sig == SIGHUP) {
            m_on_reload();
        } else {
            m_on_stop();
        }
    }
}

} // namespace lethe::worker
