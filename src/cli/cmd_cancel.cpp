#include "cli/command.hpp"
#include "store/requests.hpp"
#include "util/time.hpp"

#include <iostream>

namespace lethe::cli {
namespace {

// `lethe cancel REQUEST_ID --reason TEXT`.
class CancelCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.footer("Cancels a pending request (e.g. the data subject withdrew it). The "
                   "reason and who cancelled are recorded in the audit log.");
        app.add_option("request_id", m_request_id, "The request to cancel")->required();
        app.add_option("--reason", m_reason, "Why (recorded in the audit log)")->required();
    }

    int run(Context& ctx) override {
        store::RequestQueue queue(ctx.database(), ctx.clock());
        queue.cancel(m_request_id, m_reason, ctx.actor());
        std::cout << "request " << m_request_id << ": cancelled\n";
        return 0;
    }

private:
    std::string m_request_id;
    std::string m_reason;
};

// `lethe retry REQUEST_ID... | --dead`.
class RetryCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.footer("Puts dead requests back in the queue with their attempt count reset.");
        auto* ids = app.add_option("request_ids", m_request_ids, "Dead requests to retry");
        auto* all = app.add_flag("--dead", m_all_dead, "Retry every dead request");
        ids->excludes(all);
        app.callback([this] {
            if (m_request_ids.empty() && !m_all_dead) {
                throw CLI::ValidationError("retry", "give REQUEST_ID... or --dead");
            }
        });
    }

    int run(Context& ctx) override {
        store::RequestQueue queue(ctx.database(), ctx.clock());
        std::int64_t n = m_all_dead ? queue.retry_all_dead(ctx.actor())
                                    : queue.retry(m_request_ids, ctx.actor());
        std::cout << n << " request" << (n == 1 ? "" : "s") << " queued again\n";
        return 0;
    }

private:
    std::vector<std::string> m_request_ids;
    bool m_all_dead = false;
};

// `lethe extend REQUEST_ID --reason TEXT`.
class ExtendCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.footer("Extends a request's deadline once, to three months after receipt "
                   "(Art. 12(3) GDPR: complexity or number of requests). The data subject "
                   "must be told within the first month; the reason is recorded.");
        app.add_option("request_id", m_request_id, "The request")->required();
        app.add_option("--reason", m_reason, "Why (recorded in the audit log)")->required();
    }

    int run(Context& ctx) override {
        store::RequestQueue queue(ctx.database(), ctx.clock());
        queue.extend(m_request_id, m_reason, ctx.actor());
        auto row = queue.find(m_request_id);
        std::cout << "request " << m_request_id << ": deadline extended to "
                  << format_iso8601(row->deadline_at) << "\n";
        return 0;
    }

private:
    std::string m_request_id;
    std::string m_reason;
};

} // namespace

std::unique_ptr<Command> make_cancel_command() {
    return std::make_unique<CancelCommand>();
}
std::unique_ptr<Command> make_retry_command() {
    return std::make_unique<RetryCommand>();
}
std::unique_ptr<Command> make_extend_command() {
    return std::make_unique<ExtendCommand>();
}

} // namespace lethe::cli
