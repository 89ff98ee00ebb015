#include "audit/report.hpp"
#include "cli/arguments.hpp"
#include "cli/command.hpp"
#include "util/fs.hpp"

#include <iostream>

namespace lethe::cli {
namespace {

// `lethe report`: deadline compliance over the requests received in a period.
class ReportCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.add_option("--since", m_since,
                       "Requests received at or after (ISO 8601; default: "
                       "the first request)");
        app.add_option("--until", m_until,
                       "Requests received before (a bare date includes that day; default: now)");
        app.add_option("--format", m_format, "text (default), json or html")
            ->check(CLI::IsMember({"text", "json", "html"}));
        app.add_option("--at-risk-days", m_at_risk_days,
                       "A request not yet erased is at risk when its deadline is this close "
                       "(default 7)")
            ->transform(whole_number(1, 365));
        app.add_option("-o,--output", m_output, "Write to FILE atomically, mode 0600");
        app.footer("Counts requests received, erased, dead and cancelled; the median and 95th "
                   "percentile time from receipt to erasure; the share erased within the "
                   "statutory deadline; and the overdue and at-risk requests by request_id. "
                   "The HTML report is one self-contained file with a chart per day. No "
                   "identifier appears in any format.");
    }

    int run(Context& ctx) override {
        audit::ReportOptions options;
        if (m_since) {
            options.since = audit::parse_time_bound("--since", *m_since, false);
        }
        if (m_until) {
            options.until = audit::parse_time_bound("--until", *m_until, true);
        }
        options.at_risk_days = m_at_risk_days;
        options.witnesses = config::witness_names(ctx.config());
        options.witness_quorum = ctx.config().audit.witness_quorum;
        auto report = audit::build_report(ctx.database(), ctx.clock(), options);
        const std::string out = m_format == "json"   ? audit::report_json(report)
                                : m_format == "html" ? audit::report_html(report)
                                                     : audit::report_text(report);
        if (m_output) {
            write_file_atomic(*m_output, out);
        } else {
            std::cout << out;
        }
        return 0;
    }

private:
    std::optional<std::string> m_since;
    std::optional<std::string> m_until;
    std::optional<std::string> m_output;
    std::string m_format = "text";
    int m_at_risk_days = 7;
};

} // namespace

std::unique_ptr<Command> make_report_command() {
    return std::make_unique<ReportCommand>();
}

} // namespace lethe::cli
