#include "cli/arguments.hpp"
#include "cli/command.hpp"
#include "erasure/lifecycle.hpp"
#include "store/requests.hpp"
#include "util/time.hpp"

#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>

namespace lethe::cli {
namespace {

std::vector<std::string> state_names() {
    std::vector<std::string> names;
    for (auto s : erasure::k_request_states) {
        names.emplace_back(erasure::to_text(s));
    }
    return names;
}

// "us-main:done eu-main:pending": each workspace's erasure state.
std::string erasure_column(const store::RequestRow& r) {
    std::string out;
    for (const auto& e : r.erasures) {
        out += (out.empty() ? "" : " ") + e.workspace + ":" + e.state +
               (e.verified == false ? "(unverified)" : "");
    }
    return out.empty() ? "-" : out;
}

// `lethe list [--state S] [--overdue] [--json] [--show-identifiers]`.
class ListCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.footer("Lists requests in the order they arrived. Subjects are shown as "
                   "digests; --show-identifiers prints the raw identifiers of requests "
                   "not yet erased (erased requests no longer hold one).");
        app.add_option("--state", m_filter.state, "Only this state")
            ->check(CLI::IsMember(state_names()));
        app.add_flag("--overdue", m_filter.overdue_only, "Only requests past their deadline");
        app.add_option("--limit", m_filter.limit, "At most N rows")
            ->transform(whole_number(0, std::numeric_limits<std::int64_t>::max()));
        app.add_flag("--json", m_json, "One JSON object per line");
        app.add_flag("--show-identifiers", m_show_identifiers,
                     "Show raw identifiers (personal data: only where needed)");
    }

    int run(Context& ctx) override {
        m_db = &ctx.database();
        store::RequestQueue queue(ctx.database(), ctx.clock());
        auto rows = queue.list(m_filter);
        if (!m_json) {
            std::cout
                << "REQUEST_ID\tSTATE\tATTEMPTS\tRECEIVED\tDEADLINE\tSUBJECT\tWORKSPACES\tNOTE\n";
        }
        for (const auto& r : rows) {
            m_json ? print_json(r) : print_text(r);
        }
        return 0;
    }

private:
    // Opening a sealed identifier needs the identifier key: only --show-identifiers does.
    std::optional<std::string> shown_identifier(const store::RequestRow& r) const {
        return m_show_identifiers ? store::open_identifier(*m_db, r) : std::nullopt;
    }

    std::string subject(const store::RequestRow& r) const {
        if (auto identifier = shown_identifier(r)) {
            return *identifier;
        }
        return r.subject_digest.substr(0, 16);
    }

    void print_text(const store::RequestRow& r) const {
        std::string note;
        if (r.linked_to) {
            note = "linked to " + *r.linked_to;
        } else if (r.last_error) {
            note = *r.last_error;
        }
        std::cout << r.request_id << "\t" << r.state << "\t" << r.attempts << "\t"
                  << format_iso8601(r.received_at) << "\t" << format_iso8601(r.deadline_at) << "\t"
                  << subject(r) << "\t" << erasure_column(r) << "\t" << note << "\n";
    }

    void print_json(const store::RequestRow& r) const {
        nlohmann::json j;
        j["request_id"] = r.request_id;
        j["state"] = r.state;
        j["id_type"] = r.id_type;
        j["subject_digest"] = r.subject_digest;
        if (auto identifier = shown_identifier(r)) {
            j["identifier"] = *identifier;
        }
        j["source"] = r.source;
        j["received_at"] = format_iso8601(r.received_at);
        j["deadline_at"] = format_iso8601(r.deadline_at);
        j["extended"] = r.extended_reason.has_value();
        j["attempts"] = r.attempts;
        j["linked_to"] = r.linked_to ? nlohmann::json(*r.linked_to) : nlohmann::json(nullptr);
        j["last_error"] = r.last_error ? nlohmann::json(*r.last_error) : nlohmann::json(nullptr);
        j["workspaces"] = r.workspaces ? nlohmann::json(*r.workspaces) : nlohmann::json(nullptr);
        j["erasures"] = nlohmann::json::array();
        for (const auto& e : r.erasures) {
            j["erasures"].push_back(
                {{"workspace", e.workspace},
                 {"state", e.state},
                 {"attempts", e.attempts},
                 {"verified", e.verified ? nlohmann::json(*e.verified) : nlohmann::json(nullptr)}});
        }
        std::cout << j.dump() << "\n";
    }

    store::ListFilter m_filter;
    bool m_json = false;
    bool m_show_identifiers = false;
    store::Database* m_db = nullptr;
};

} // namespace

std::unique_ptr<Command> make_list_command() {
    return std::make_unique<ListCommand>();
}

} // namespace lethe::cli
