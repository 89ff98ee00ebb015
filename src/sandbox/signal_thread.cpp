#include "sandbox/signal_thread.hpp"

#include <csignal>
#include <pthread.h>

namespace lethe::sandbox {
namespace {

// SIGUSR2 only wakes the thread when the object is destroyed.
sigset_t watched() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR2}) {
        sigaddset(&set, sig);
    }
    return set;
}

} // namespace

SignalThread::SignalThread(std::function<void()> on_stop, std::function<void()> on_reload)
    : m_on_stop(std::move(on_stop)), m_on_reload(std::move(on_reload)) {
    sigset_t set = watched();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    m_thread = std::thread([this] { loop(); });
}

SignalThread::~SignalThread() {
    pthread_kill(m_thread.native_handle(), SIGUSR2);
    m_thread.join();
}

void SignalThread::loop() {
    sigset_t set = watched();
    while (true) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) {
            continue;
        }
        if (sig == SIGUSR2) {
            return;
        }
        if (sig == SIGHUP) {
            m_on_reload();
        } else {
            m_on_stop();
        }
    }
}

} // namespace lethe::sandbox
