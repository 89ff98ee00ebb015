#pragma once

#include "cli/command.hpp"
#include "cli/track_api.hpp"
#include "store/claims.hpp"
#include "util/random.hpp"
#include "worker/worker.hpp"

#include <cstdint>

namespace lethe::cli {

// The erasure worker as `lethe run` and `lethe serve --with-worker` configure it: Track API
// credentials, the queue on the context's database, pacing and retries from [worker].
class WorkerRun {
public:
    // Resolves the credentials (throws lethe::ConfigError). `once`: drain what is due and stop;
    // `max`: stop after that many erasures (0: no limit).
    WorkerRun(Context& ctx, bool once, std::int64_t max);
    // Runs until drained (once), stopped, halted or the maximum is reached.
    worker::WorkerReport run();
    // Asks the run to stop: in-flight calls finish, leases are released. Any thread.
    void request_stop() { m_worker.request_stop(); }
    // Re-reads the credentials (SIGHUP). Never throws.
    void reload_credentials() { m_api.reload_credentials(); }
    // After run(): writes a checkpoint and prints the report; returns 0, or throws lethe::Error
    // (exit 6 when Customer.io refused the credentials) when the worker halted.
    int finish(const worker::WorkerReport& report);

private:
    Context& m_ctx;
    bool m_once;
    TrackApi m_api;
    store::WorkerQueue m_queue;
    SystemSleeper m_sleeper;
    SystemRandom m_random;
    worker::Worker m_worker;
};

} // namespace lethe::cli
