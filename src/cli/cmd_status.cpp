#include "cli/command.hpp"
#include "erasure/lifecycle.hpp"
#include "store/import_staging.hpp"
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
                   "request and the next scheduled retry; an import running or left by a killed "
                   "one; the newest checkpoint and the witnessed size.");
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
            j["import"] = import_json(store::import_status(ctx.database()));
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
        print_import(store::import_status(ctx.database()), now);
        print_workspaces(s);
        print_evidence(ctx, now);
        return 0;
    }

private:
    static nlohmann::json import_json(const store::ImportStatus& st) {
        nlohmann::json batches = nlohmann::json::array();
        for (const auto& b : st.batches) {
            batches.push_back({{"batch", b.batch},
                               {"state", b.committed ? "committed" : "staging"},
                               {"rows", b.rows},
                               {"started_at", format_iso8601(b.started_at)}});
        }
        return {{"running", st.running}, {"batches", batches}};
    }

    // Nothing when no import runs and none was left behind.
    static void print_import(const store::ImportStatus& st, TimeMs now) {
        if (st.running && st.batches.empty()) {
            std::cout << "import:      running (reading its file; nothing staged yet)\n";
        }
        for (const auto& b : st.batches) {
            std::cout << "import:      " << (st.running ? "running" : "stopped") << ", batch "
                      << b.batch << ", "
                      << (b.committed ? std::to_string(b.rows) + " rows left to publish"
                                      : std::to_string(b.rows) + " rows staged")
                      << ", started " << format_iso8601(b.started_at) << " ("
                      << format_duration(now - b.started_at) << " ago)\n";
            if (!st.running) {
                std::cout << "             (a killed import: the next import, run or serve "
                          << (b.committed ? "publishes" : "discards") << " it)\n";
            }
        }
    }

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
