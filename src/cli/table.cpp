#include "cli/command.hpp"

namespace lethe::cli {

const std::vector<CommandSpec>& command_table() {
    static const std::vector<CommandSpec> k_table = {
        {"init", "Create the database, the subject key and the checkpoint key (idempotent)",
         Needs::config, make_init_command},
        {"import", "Import erasure requests from CSV files (all or nothing)", Needs::database,
         make_import_command},
        {"enqueue", "Add one erasure request", Needs::database, make_enqueue_command},
        {"status", "Show counts per state, overdue requests and the next retry", Needs::database,
         make_status_command},
        {"list", "List requests (subjects as digests)", Needs::database, make_list_command},
        {"cancel", "Cancel a pending request", Needs::database, make_cancel_command},
        {"retry", "Put dead requests back in the queue", Needs::database, make_retry_command},
        {"run", "Erase queued people from Customer.io: suppress, then destroy", Needs::database,
         make_run_command},
        {"serve", "Accept signed erasure requests over HTTP; /healthz and /metrics",
         Needs::database, make_serve_command},
        {"callbacks", "List completion callbacks not delivered yet; --retry sends them now",
         Needs::database, make_callbacks_command},
        {"sign", "Print the signature headers of an intake request body", Needs::flags_only,
         make_sign_command},
        {"check", "Check the Customer.io credentials and region", Needs::config,
         make_check_command},
        {"extend", "Extend a request's deadline once by two months (Art. 12(3) GDPR)",
         Needs::database, make_extend_command},
        {"config", "Show the effective configuration (`config show`; secrets masked)",
         Needs::config, make_config_command},
        {"audit", "Verify, export and sign the audit log; look up one subject", Needs::flags_only,
         make_audit_command},
        {"report", "Deadline compliance report (text, JSON or HTML)", Needs::database,
         make_report_command},
        {"witness", "Run a witness that cosigns this or another lethe's checkpoints",
         Needs::flags_only, make_witness_command},
        {"backup", "Copy the database online, verified, with its latest checkpoint",
         Needs::database, make_backup_command},
        {"restore", "Put a backup in place of the database (never behind a known checkpoint)",
         Needs::config, make_restore_command},
    };
    return k_table;
}

} // namespace lethe::cli
