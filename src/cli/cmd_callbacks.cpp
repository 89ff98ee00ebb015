#include "callback/loop.hpp"
#include "cli/command.hpp"
#include "net/curl_client.hpp"
#include "store/callback_outbox.hpp"
#include "util/random.hpp"
#include "util/time.hpp"

#include <iostream>
#include <nlohmann/json.hpp>

namespace lethe::cli {
namespace {

// `lethe callbacks [--retry] [--json]`.
class CallbacksCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.footer("Lists the completion callbacks not delivered yet: pending (being retried "
                   "with backoff by `lethe serve` and `lethe run`) and failed (their retry window, "
                   "callback_retry_hours, is over). --retry sends them again now, failed ones "
                   "with a fresh retry window; receivers drop repeats by event_id.");
        app.add_flag("--retry", m_retry, "Send the pending and failed callbacks now");
        app.add_flag("--json", m_json, "One JSON object per line");
    }

    int run(Context& ctx) override {
        store::CallbackOutbox outbox(ctx.database(), ctx.clock());
        if (m_retry) {
            send_now(ctx, outbox);
        }
        const auto events = outbox.undelivered();
        if (!m_json) {
            std::cout << "EVENT_ID\tREQUEST_ID\tSENDER\tSTATE\tSTATUS\tATTEMPTS\tNEXT_ATTEMPT\t"
                         "LAST_ERROR\n";
        }
        for (const auto& e : events) {
            m_json ? print_json(e) : print_text(e);
        }
        return 0;
    }

private:
    static void send_now(Context& ctx, store::CallbackOutbox& outbox) {
        const std::int64_t due = outbox.requeue(ctx.actor());
        auto targets = callback::callback_targets(ctx.config());
        net::CurlOptions options;
        options.timeout_ms = 10'000;
        net::CurlHttpClient http(options);
        SystemRandom random;
        callback::CallbackDelivery delivery(ctx.database(), http, ctx.clock(), random,
                                            std::move(targets));
        const int attempts = delivery.deliver_due();
        std::cerr << due << " callback" << (due == 1 ? "" : "s") << " due; " << attempts
                  << " attempt" << (attempts == 1 ? "" : "s") << " made\n";
    }

    static void print_text(const store::CallbackEvent& e) {
        std::cout << e.event_id << "\t" << e.request_id << "\t" << e.sender << "\t" << e.state
                  << "\t" << store::to_text(e.status) << "\t" << e.attempts << "\t"
                  << (e.status == store::CallbackStatus::pending ? format_iso8601(e.next_attempt_at)
                                                                 : "-")
                  << "\t" << e.last_error.value_or("-") << "\n";
    }

    static void print_json(const store::CallbackEvent& e) {
        nlohmann::json j;
        j["event_id"] = e.event_id;
        j["request_id"] = e.request_id;
        j["sender"] = e.sender;
        j["state"] = e.state;
        j["status"] = std::string(store::to_text(e.status));
        j["attempts"] = e.attempts;
        j["occurred_at"] = format_iso8601_ms(e.occurred_at);
        j["next_attempt_at"] = e.status == store::CallbackStatus::pending
                                   ? nlohmann::json(format_iso8601_ms(e.next_attempt_at))
                                   : nlohmann::json(nullptr);
        j["last_error"] = e.last_error ? nlohmann::json(*e.last_error) : nlohmann::json(nullptr);
        std::cout << j.dump() << "\n";
    }

    bool m_retry = false;
    bool m_json = false;
};

} // namespace

std::unique_ptr<Command> make_callbacks_command() {
    return std::make_unique<CallbacksCommand>();
}

} // namespace lethe::cli
