#pragma once

#include "cli/command.hpp"
#include "cli/track_api.hpp"
#include "store/claims.hpp"
#include "util/random.hpp"
#include "worker/worker.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace lethe::cli {

// The erasure worker as `lethe run` and `lethe serve --with-worker` configure it: one worker per
// configured workspace, each with its own Track API credentials, pacing, concurrency and 429
// pause (the rate limits are per workspace), over one queue; [worker] settings apply to each.
class WorkerRun {
public:
    // Resolves every workspace's credentials (throws lethe::ConfigError). `once`: drain what is
    // due and stop; `max`: stop after that many erasures in all (0: no limit).
    WorkerRun(Context& ctx, bool once, std::int64_t max);
    ~WorkerRun();
    // Plans the erasures of the configured workspaces, then runs every workspace's worker until
    // each is drained (once), stopped, or one halts (which stops them all). Returns the sum.
    worker::WorkerReport run();
    // Asks every worker to stop: in-flight calls finish, leases are released. Any thread.
    void request_stop();
    // Re-reads every workspace's credentials (SIGHUP); each is pinned again before it is used.
    // Never throws.
    void reload_credentials();
    // After run(): writes a checkpoint and prints the report; returns 0, or throws lethe::Error
    // when a worker halted (exit 6 credentials refused, 8 a pin check failed, 1 otherwise).
    int finish(const worker::WorkerReport& report);

private:
    // One workspace's API client and worker.
    struct Lane {
        std::unique_ptr<TrackApi> api;
        std::unique_ptr<worker::Worker> worker;
    };

    Context& m_ctx;
    bool m_once;
    store::WorkerQueue m_queue;
    SystemSleeper m_sleeper;
    SystemRandom m_random;
    std::optional<worker::StartBudget> m_budget;
    std::vector<Lane> m_lanes;
};

} // namespace lethe::cli
