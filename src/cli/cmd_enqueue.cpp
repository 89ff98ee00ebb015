#include "cli/arguments.hpp"
#include "cli/command.hpp"
#include "intake/admission.hpp"
#include "util/error.hpp"

#include <iostream>

namespace lethe::cli {
namespace {

// `lethe enqueue IDENTIFIER [--id-type T] [--request-id R] [--received-at TS]`.
class EnqueueCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.footer("Adds one erasure request, validated like a CSV row. Without "
                   "--request-id a stable id is derived from the subject and received_at.");
        app.add_option("identifier", m_raw.identifier,
                       "Customer.io id, e-mail or cio_ id; - reads it from stdin (keeps it out "
                       "of ps and the shell history)")
            ->required();
        app.add_option("--id-type", m_raw.id_type,
                       "id, email, cio_id or phone (inferred when absent; phone only when given)");
        app.add_option("--request-id", m_raw.request_id, "Idempotency key (e.g. the ticket id)");
        app.add_option("--received-at", m_raw.received_at,
                       "When the data subject asked (ISO 8601; default now)");
        app.add_option("--workspace", m_workspaces,
                       "Erase only in this workspace (repeat for several; default: every "
                       "configured workspace)");
    }

    int run(Context& ctx) override {
        m_raw.identifier = identifier_argument(m_raw.identifier, std::cin);
        for (const auto& w : m_workspaces) {
            m_raw.workspaces += (m_raw.workspaces.empty() ? "" : ",") + w;
        }
        auto digester = intake::load_digester(ctx.config().audit.subject_key_file);
        intake::upgrade_subject_digests(ctx.database(), ctx.clock(), digester);
        intake::Admission admission(ctx.database(), ctx.clock(), digester,
                                    config::workspace_names(ctx.config()));
        if (auto reason = admission.admit(m_raw, "cli")) {
            throw InputError("enqueue: " + *reason);
        }
        admission.commit();
        const auto& last = admission.last();
        std::cout << "request " << admission.last_request_id() << ": ";
        switch (last.outcome) {
        case store::InsertOutcome::created:
            std::cout << "queued\n";
            break;
        case store::InsertOutcome::linked:
            std::cout << "queued, linked to active request " << last.linked_to << "\n";
            break;
        default:
            std::cout << "already known, nothing added\n";
            break;
        }
        return 0;
    }

private:
    intake::RawRequest m_raw;
    std::vector<std::string> m_workspaces;
};

} // namespace

std::unique_ptr<Command> make_enqueue_command() {
    return std::make_unique<EnqueueCommand>();
}

} // namespace lethe::cli
