#include "cli/command.hpp"
#include "erasure/lifecycle.hpp"
#include "store/requests.hpp"
#include "store/witness_store.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

namespace lethe::cli {
namespace {

nlohmann::json optional_time(const std::optional<TimeMs>& t) {
    return t ? nlohmann::json(format_iso8601(*t)) : nlohmann::json(nullptr);
}

// `lethe status [--json]`: reads the database only; never touches the network.
class StatusCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.footer("Shows how many requests are in each state, how many are overdue "
                   "(past their statutory deadline and not erased), the oldest pending "
                   "request and the next scheduled retry.");
        app.add_flag("--json", m_json, "Print one JSON object");
    }

    int run(Context& ctx) override {
        store::RequestQueue queue(ctx.database(), ctx.clock());
        auto s = queue.status();
        const TimeMs now = ctx.clock().now_ms();
        if (m_json) {
            nlohmann::json j;
            j["counts"] = s.counts;
            j["linked"] = s.linked;
            j["overdue"] = s.overdue;
            j["oldest_pending_received_at"] = optional_time(s.oldest_pending_received_at);
            j["next_retry_at"] = optional_time(s.next_retry_at);
            j["waiting_retry"] = s.waiting_retry;
            j["workspaces"] = s.by_workspace;
            j["evidence"] = evidence_json(ctx, now);
            std::cout << j.dump() << "\n";
            return 0;
        }
        for (auto st : erasure::k_request_states) {
            const std::string state(erasure::to_text(st));
            std::cout << state << ":" << std::string(12 - state.size(), ' ') << s.counts[state]
                      << "\n";
        }
        std::cout << "linked:      " << s.linked << " (waiting on another request)\n"
                  << "overdue:     " << s.overdue << "\n";
        if (s.oldest_pending_received_at) {
            std::cout << "oldest pending: received "
                      << format_iso8601(*s.oldest_pending_received_at) << " ("
                      << format_duration(now - *s.oldest_pending_received_at) << " ago)\n";
        }
        if (s.next_retry_at) {
            std::cout << "next retry:  " << format_iso8601(*s.next_retry_at) << " (in "
                      << format_duration(*s.next_retry_at - now) << ", " << s.waiting_retry
                      << " waiting)\n";
        }
        print_workspaces(s);
        print_evidence(ctx, now);
        return 0;
    }

private:
    // The latest checkpoint and, with witnesses, the latest witnessed one.
    static nlohmann::json evidence_json(Context& ctx, TimeMs now) {
        const auto& cfg = ctx.config();
        nlohmann::json j;
        j["checkpoint_size"] = store::latest_checkpoint_size(ctx.database());
        j["witness_quorum"] = cfg.audit.witness_quorum;
        const auto w = store::latest_witnessed(ctx.database(), config::witness_names(cfg),
                                               cfg.audit.witness_quorum);
        j["witnessed_size"] = w ? w->size : 0;
        j["witnessed_at"] = w ? optional_time(w->witness_time * 1000) : nlohmann::json(nullptr);
        j["witnessed_age_seconds"] =
            w ? nlohmann::json(std::max<TimeMs>(0, now / 1000 - w->witness_time))
              : nlohmann::json(nullptr);
        return j;
    }

    static void print_evidence(Context& ctx, TimeMs now) {
        const auto j = evidence_json(ctx, now);
        std::cout << "\ncheckpoint:  " << j["checkpoint_size"].get<std::int64_t>()
                  << " entries signed\n";
        if (j["witness_quorum"].get<std::int64_t>() == 0) {
            return;
        }
        if (j["witnessed_at"].is_null()) {
            std::cout << "witnessed:   none (a quorum of " << j["witness_quorum"]
                      << " cosignatures not reached yet)\n";
            return;
        }
        std::cout << "witnessed:   " << j["witnessed_size"].get<std::int64_t>()
                  << " entries, quorum of " << j["witness_quorum"] << " reached "
                  << format_duration(j["witnessed_age_seconds"].get<std::int64_t>() * 1000)
                  << " ago\n";
    }

    // One line per workspace: its erasures in each state.
    static void print_workspaces(const store::StatusSummary& s) {
        if (s.by_workspace.empty()) {
            return;
        }
        std::cout << "\nerasures per workspace:\n";
        std::size_t width = 9;
        for (const auto& [name, counts] : s.by_workspace) {
            width = std::max(width, name.size());
        }
        std::cout << "  " << std::string("WORKSPACE") << std::string(width - 9 + 2, ' ');
        for (auto st : erasure::k_erasure_states) {
            std::cout << erasure::to_text(st) << "  ";
        }
        std::cout << "unverified\n";
        for (const auto& [name, counts] : s.by_workspace) {
            std::cout << "  " << name << std::string(width - name.size() + 2, ' ');
            for (auto st : erasure::k_erasure_states) {
                const std::string state(erasure::to_text(st));
                std::string n = std::to_string(counts.at(state));
                std::cout << n
                          << std::string(state.size() + 2 - std::min(n.size(), state.size()), ' ');
            }
            std::cout << counts.at("unverified") << "\n";
        }
    }

    bool m_json = false;
};

} // namespace

std::unique_ptr<Command> make_status_command() {
    return std::make_unique<StatusCommand>();
}

} // namespace lethe::cli
