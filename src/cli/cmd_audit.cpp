#include "audit/checkpoint.hpp"
#include "audit/cosignature.hpp"
#include "audit/export.hpp"
#include "audit/keys.hpp"
#include "audit/proof_bundle.hpp"
#include "audit/proofs.hpp"
#include "audit/report.hpp"
#include "audit/subject.hpp"
#include "audit/verify.hpp"
#include "audit/witness_check.hpp"
#include "cli/arguments.hpp"
#include "cli/command.hpp"
#include "cli/witnessing.hpp"
#include "intake/admission.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"

#include <iostream>

namespace lethe::cli {
namespace {

// PEM (SubjectPublicKeyInfo) of a raw Ed25519 public key, for `openssl pkeyutl -verify`.
std::string public_pem(std::string_view raw32) {
    // The fixed DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), then the 32 key bytes.
    static const std::string k_prefix = *from_hex("302a300506032b6570032100");
    return "-----BEGIN PUBLIC KEY-----\n" + crypto::base64_encode(k_prefix + std::string(raw32)) +
           "\n-----END PUBLIC KEY-----\n";
}

// One line per witness: what it did with the checkpoint.
void print_witness_results(const std::vector<witness::SubmitResult>& results) {
    for (const auto& r : results) {
        std::cout << "witness " << r.witness << ": " << witness::describe(r.outcome)
                  << (r.detail.empty() ? "" : " (" + r.detail + ")") << "\n";
    }
}

// `lethe audit verify|export|checkpoint|public-key|subject`.
class AuditCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.require_subcommand(1);
        app.footer("The audit log is append-only and hash-chained; docs/audit-format.md says how "
                   "to check it without lethe.");

        m_verify = app.add_subcommand("verify", "Check the hash chain and signed checkpoints");
        m_verify->add_option("--file", m_file,
                             "Verify an export (JSON Lines, or CSV beside its .checkpoint.json) "
                             "instead of the database");
        m_verify->add_option("--checkpoint", m_checkpoints,
                             "A signed checkpoint the log must still match (repeatable)");
        m_verify->add_option("--key", m_keys,
                             "Trusted verifier key (NAME+ID+BASE64, or a file holding it); "
                             "repeat it for the keys of a rotation; default: derived from the "
                             "configured checkpoint key (and the previous one)");
        add_witness_options(m_verify);
        m_verify->add_flag("--no-stored-checkpoints", m_no_stored,
                           "Database mode: do not also compare with the latest checkpoint in "
                           "the database and in checkpoint_dir");
        m_verify->footer(
            "Recomputes every entry's hash, checks that seq has no gaps and that every prev_hash "
            "links to the entry before, and that each checkpoint's size and head hash still match "
            "and its signature is valid. On failure it names the first bad entry (its seq) and "
            "exits with 1.");

        m_export = app.add_subcommand("export", "Write the audit log with a signed checkpoint");
        m_export->add_option("--format", m_format, "jsonl (default) or csv")
            ->check(CLI::IsMember({"jsonl", "csv"}));
        m_export->add_option("--since", m_since, "Entries at or after this time (ISO 8601)");
        m_export->add_option("--until", m_until,
                             "Entries before this time (a bare date includes that day)");
        m_export->add_option("-o,--output", m_output,
                             "Write to FILE atomically, mode 0600 (default: stdout; CSV needs a "
                             "file, its checkpoint goes to FILE.checkpoint.json)");
        m_export->footer("Every entry with seq, at, event, request_ref, subject_digest, detail, "
                         "prev_hash and hash, then signed checkpoints of where the export starts "
                         "and ends and of the whole log, so a range export can be verified on its "
                         "own. A time range exports the contiguous seq range that covers it.");

        m_checkpoint = app.add_subcommand("checkpoint", "Sign the current head now");
        m_checkpoint->footer("Checks that the log still extends the last signed checkpoint, "
                             "signs (origin, size, head hash) with the checkpoint key, stores the "
                             "note in the database and writes it into checkpoint_dir.");

        m_inclusion =
            app.add_subcommand("inclusion", "Prove that an entry is in a checkpoint's tree");
        m_inclusion->add_option("seq", m_seq, "The entry's seq")->required();
        m_inclusion->add_option("--checkpoint", m_note_file,
                                "The signed checkpoint to prove against (default: "
                                "checkpoint_dir/latest.note)");
        add_proof_options(m_inclusion);
        m_inclusion->footer("Prints the RFC 9162 inclusion proof of the entry in the Merkle tree "
                            "the checkpoint signs, made from the stored subtrees and checked "
                            "before it is printed (docs/audit-format.md, \"Proofs\").");

        m_consistency = app.add_subcommand("consistency",
                                           "Prove that a later checkpoint extends an earlier one");
        m_consistency->add_option("old", m_old_note, "The earlier checkpoint (a note file)")
            ->required();
        m_consistency->add_option("new", m_new_note, "The later checkpoint (a note file)")
            ->required();
        add_proof_options(m_consistency);
        m_consistency->footer("Checks both signatures, prints the RFC 9162 consistency proof "
                              "between their Merkle trees and verifies it: exit 0 when NEW "
                              "extends OLD, 1 when it does not (the log was rewritten or forked).");

        m_proof = app.add_subcommand("proof", "Write one subject's entries with inclusion proofs");
        auto* by_request = m_proof->add_option("--request", m_request,
                                               "The subject of this request (its request_id)");
        auto* by_subject = m_proof->add_option(
            "--subject", m_subject_arg,
            "The subject's identifier; - reads it from stdin (keeps it out of ps and history)");
        by_request->excludes(by_subject);
        m_proof->add_option("--id-type", m_id_type,
                            "With --subject: id, email, cio_id or phone (inferred when absent)");
        m_proof->add_option("-o,--output", m_output, "Write the bundle to FILE (mode 0600)")
            ->required();
        m_proof->footer("A self-contained bundle for one data subject: its audit entries, an "
                        "inclusion proof of each against one signed checkpoint (the latest "
                        "stored one when it covers them, else one signed now), that checkpoint "
                        "verbatim with any cosignatures, and a signed statement binding them. "
                        "It holds no other subject's entry, only hashes (docs/audit-format.md, "
                        "\"Proof bundles\").");

        m_verify_proof =
            app.add_subcommand("verify-proof", "Check a subject's proof bundle offline");
        m_verify_proof->add_option("file", m_bundle_file, "The bundle")->required();
        m_verify_proof->add_option("--key", m_keys,
                                   "Trusted verifier key (NAME+ID+BASE64, or a file holding it; "
                                   "repeatable); default: derived from the configured "
                                   "checkpoint key");
        add_witness_options(m_verify_proof);
        m_verify_proof->footer("Recomputes every entry's hash from its contents, checks each "
                               "inclusion proof against the checkpoint's Merkle root and the "
                               "signatures of the checkpoint and of the statement; any changed "
                               "byte fails, with the line and the reason. Exit 0 or 1.");

        m_public_key = app.add_subcommand("public-key", "Print the checkpoint verification key");
        m_public_key
            ->add_option("--format", m_key_format,
                         "note (default: NAME+ID+BASE64), pem, hex or all")
            ->check(CLI::IsMember({"note", "pem", "hex", "all"}));

        m_subject = app.add_subcommand("subject", "Show one subject's history by digest");
        m_subject
            ->add_option("identifier", m_identifier,
                         "The subject's identifier (e-mail, id or cio_ id); - reads it "
                         "from stdin")
            ->required();
        m_subject->add_flag("--json", m_json, "Print one JSON object");
        m_subject->add_option(
            "--id-type", m_id_type,
            "id, email, cio_id or phone (inferred like `lethe import` when absent)");
        m_subject->footer("Computes the subject's digest with the subject key and prints the "
                          "requests and audit entries for that digest only: was this person "
                          "erased, and when? The identifier itself is never printed or stored.");
    }

    int run(Context& ctx) override {
        if (m_inclusion->parsed() || m_consistency->parsed()) {
            return prove(ctx);
        }
        if (m_verify->parsed()) {
            return verify(ctx);
        }
        if (m_export->parsed()) {
            return export_log(ctx);
        }
        if (m_checkpoint->parsed()) {
            auto path = audit::write_checkpoint(ctx.database(), ctx.config(), ctx.clock());
            const auto witnessed = witness_latest_checkpoint(ctx, true);
            std::cout << "checkpoint written to " << path.string() << "\n"
                      << read_file(path, FileKind::checkpoint_note);
            print_witness_results(witnessed);
            return 0;
        }
        if (m_public_key->parsed()) {
            return public_key(ctx);
        }
        if (m_proof->parsed()) {
            return proof(ctx);
        }
        if (m_verify_proof->parsed()) {
            return verify_proof(ctx);
        }
        return subject(ctx);
    }

private:
    // --witness VKEY... and --quorum N (witness_policy() reads them).
    void add_witness_options(CLI::App* cmd) {
        cmd->add_option("--witness", m_witnesses,
                        "A trusted witness's verifier key (NAME+ID+BASE64 of type 0x04, or a file "
                        "holding it; repeatable)");
        cmd->add_option("--quorum", m_quorum,
                        "How many of the --witness keys must have cosigned (default 1 with "
                        "--witness)")
            ->check(CLI::Range(1, 16));
    }

    void add_proof_options(CLI::App* cmd) {
        cmd->add_option("--key", m_keys,
                        "Trusted verifier key (NAME+ID+BASE64, or a file holding it; "
                        "repeatable); default: derived from the configured checkpoint key");
        cmd->add_flag("--json", m_json, "Print one JSON object (hashes in Base64, as Go's tlog)");
    }

    int prove(Context& ctx) {
        const auto& cfg = ctx.config();
        const auto key = audit::trusted_keys(m_keys, &cfg);
        auto note = [](const std::string& path) {
            return read_file(path, FileKind::checkpoint_note);
        };
        if (m_inclusion->parsed()) {
            const std::string file =
                m_note_file ? *m_note_file : (cfg.audit.checkpoint_dir / "latest.note").string();
            auto p = audit::prove_inclusion(ctx.database(), note(file), key, m_seq);
            std::cout << (m_json ? audit::to_json(p) : audit::to_text(p));
            return 0;
        }
        auto p = audit::prove_consistency(ctx.database(), note(m_old_note), note(m_new_note), key);
        std::cout << (m_json ? audit::to_json(p) : audit::to_text(p));
        return 0;
    }

    // The witnesses --witness names and the --quorum they must reach.
    audit::WitnessPolicy witness_policy() const {
        if (m_quorum && m_witnesses.empty()) {
            throw Error(ExitCode::usage, "--quorum needs the witnesses' keys: give --witness VKEY");
        }
        audit::WitnessPolicy policy;
        for (const auto& w : m_witnesses) {
            policy.witnesses.push_back(audit::witness_verifier_key(w, "--witness"));
        }
        policy.quorum = m_witnesses.empty() ? 0 : m_quorum.value_or(1);
        if (policy.quorum > static_cast<std::int64_t>(policy.witnesses.size())) {
            throw Error(ExitCode::usage,
                        "--quorum " + std::to_string(policy.quorum) + " is more than the " +
                            std::to_string(policy.witnesses.size()) + " --witness keys given");
        }
        return policy;
    }

    int verify(Context& ctx) {
        std::vector<std::filesystem::path> files(m_checkpoints.begin(), m_checkpoints.end());
        audit::VerifyReport report;
        if (m_file) {
            const config::Config* cfg = m_keys.empty() ? &ctx.config() : nullptr;
            auto key = audit::trusted_keys(m_keys, cfg);
            report = audit::verify_export_file(*m_file, key, files);
            if (report.ok()) {
                audit::check_export_witnesses(key, witness_policy(), files, report);
            }
        } else {
            const auto& cfg = ctx.config();
            auto key = audit::trusted_keys(m_keys, &cfg);
            report = audit::verify_database(ctx.database(), cfg, key,
                                            audit::CheckpointSources{files, !m_no_stored});
            if (report.ok()) {
                audit::check_database_witnesses(ctx.database(), key, witness_policy(), files,
                                                report);
            }
        }
        if (!report.ok()) {
            if (report.count > 0) {
                std::cerr << "verified " << report.count << " entries before the problem\n";
            }
            throw Error(ExitCode::failure, (m_file ? *m_file : std::string("audit log")) + ": " +
                                               report.problem_text());
        }
        std::cout << (m_file ? *m_file : std::string("audit log")) << ": ok, " << report.count
                  << " entries";
        if (report.count > 0) {
            std::cout << " (seq " << report.first_seq << " to " << report.last_seq << ")";
        }
        std::cout << ", head " << report.head_hash;
        if (!report.tree_root.empty()) {
            std::cout << ", tree root " << report.tree_root;
        }
        std::cout << "\n";
        for (const auto& n : report.notes) {
            std::cout << "  " << n << "\n";
        }
        return 0;
    }

    int export_log(Context& ctx) {
        audit::ExportOptions options;
        options.format = m_format == "csv" ? audit::ExportFormat::csv : audit::ExportFormat::jsonl;
        if (m_since) {
            options.since = audit::parse_time_bound("--since", *m_since, false);
        }
        if (m_until) {
            options.until = audit::parse_time_bound("--until", *m_until, true);
        }
        if (m_output) {
            options.output = *m_output;
        }
        const auto& cfg = ctx.config();
        options.checkpoint_dir = cfg.audit.checkpoint_dir;
        auto signer = audit::CheckpointSigner::from_config(cfg);
        sign_and_witness(ctx); // the freshest witnessed checkpoint goes into the trailer
        options.witnesses = config::witness_names(cfg);
        options.witness_quorum = cfg.audit.witness_quorum;
        auto summary = audit::export_audit_log(ctx.database(), signer, ctx.clock(), options);
        // The receipt goes to stderr so that stdout stays the export itself.
        std::cerr << "exported " << summary.count << " entries";
        if (summary.count > 0) {
            std::cerr << " (seq " << summary.first_seq << " to " << summary.last_seq << " of "
                      << summary.log_size << ")";
        }
        if (m_output) {
            std::cerr << " to " << *m_output;
        }
        if (!summary.sidecar.empty()) {
            std::cerr << ", checkpoint " << summary.sidecar.string();
        }
        std::cerr << "\n";
        return 0;
    }

    int public_key(Context& ctx) {
        const auto& cfg = ctx.config();
        auto signer = audit::CheckpointSigner::from_config(cfg);
        const auto& key = signer.verifier_key();
        if (m_key_format == "note") {
            std::cout << audit::format_verifier_key(key) << "\n";
        } else if (m_key_format == "pem") {
            std::cout << public_pem(key.public_raw);
        } else if (m_key_format == "hex") {
            std::cout << to_hex(key.public_raw) << "\n";
        } else {
            std::cout << "origin:   " << signer.origin() << "\n"
                      << "verifier: " << audit::format_verifier_key(key) << "\n"
                      << "ed25519:  " << to_hex(key.public_raw) << "\n"
                      << public_pem(key.public_raw);
        }
        return 0;
    }

    // The subject's digest and the digest of the identifier as given: the identifier from
    // `arg` (- reads stdin), its type from --id-type or inferred as intake does.
    std::pair<std::string, std::string> subject_digests(Context& ctx, const std::string& arg,
                                                        std::string_view what) {
        // Trimmed exactly as `lethe import` and `lethe enqueue` trim it before digesting, so the
        // same spelling finds the same subject.
        const std::string identifier(trim(identifier_argument(arg, std::cin)));
        if (identifier.empty()) {
            throw InputError(std::string(what) + ": the identifier is empty");
        }
        audit::SubjectDigester digester(
            audit::load_subject_key(ctx.config().audit.subject_key_file));
        intake::IdType type = intake::infer_id_type(identifier);
        if (!m_id_type.empty()) {
            auto given = intake::parse_id_type(std::string(trim(m_id_type)));
            if (!given) {
                throw InputError(std::string(what) +
                                 ": --id-type must be id, email, cio_id or phone");
            }
            type = *given;
        }
        return {digester.digest(identifier, type), digester.digest_as_given(identifier)};
    }

    int subject(Context& ctx) {
        // The as-given digest also finds what was written before subject digest v2 (and
        // requests not yet re-digested).
        const auto [digest, as_given] = subject_digests(ctx, m_identifier, "subject");
        auto history = audit::subject_history(ctx.database(), digest, as_given);
        std::cout << (m_json ? audit::subject_json(history) : audit::subject_text(history));
        return 0;
    }

    int proof(Context& ctx) {
        std::vector<std::string> digests;
        if (m_request) {
            digests = audit::request_digests(ctx.database(), *m_request);
        } else if (m_subject_arg) {
            const auto [digest, as_given] = subject_digests(ctx, *m_subject_arg, "proof");
            digests.push_back(digest);
            if (as_given != digest) {
                digests.push_back(as_given);
            }
        } else {
            throw Error(ExitCode::usage, "audit proof: give --request REQUEST_ID or --subject -");
        }
        sign_and_witness(ctx); // a fresh witnessed checkpoint makes the bundle witnessed
        auto bundle = audit::make_proof_bundle(ctx.database(), ctx.config(), ctx.clock(), digests);
        write_file_atomic(*m_output, bundle.text);
        std::cout << "proof of " << bundle.entries << " entries of subject " << digests.front()
                  << " against the checkpoint of size " << bundle.tree_size
                  << (bundle.signed_now ? " (signed now)" : "") << " written to " << *m_output
                  << "\n";
        return 0;
    }

    int verify_proof(Context& ctx) {
        const config::Config* cfg = m_keys.empty() ? &ctx.config() : nullptr;
        const audit::BundleTrust trust{audit::trusted_keys(m_keys, cfg), witness_policy()};
        const auto report =
            audit::verify_proof_bundle(read_file(m_bundle_file, FileKind::audit_export), trust);
        if (!report.ok()) {
            throw Error(ExitCode::failure, m_bundle_file + ": " + report.problem_text());
        }
        std::cout << m_bundle_file << ": ok\n";
        for (const auto& n : report.notes) {
            std::cout << "  " << n << "\n";
        }
        return 0;
    }

    CLI::App* m_verify = nullptr;
    CLI::App* m_export = nullptr;
    CLI::App* m_checkpoint = nullptr;
    CLI::App* m_public_key = nullptr;
    CLI::App* m_inclusion = nullptr;
    CLI::App* m_consistency = nullptr;
    std::int64_t m_seq = 0;
    std::optional<std::string> m_note_file;
    std::string m_old_note;
    std::string m_new_note;
    CLI::App* m_subject = nullptr;
    CLI::App* m_proof = nullptr;
    CLI::App* m_verify_proof = nullptr;
    std::optional<std::string> m_request;
    std::optional<std::string> m_subject_arg;
    std::string m_bundle_file;
    std::optional<std::string> m_file;
    std::vector<std::string> m_checkpoints;
    std::vector<std::string> m_keys;
    bool m_no_stored = false;
    std::vector<std::string> m_witnesses;
    std::optional<std::int64_t> m_quorum;
    std::string m_format = "jsonl";
    std::optional<std::string> m_since;
    std::optional<std::string> m_until;
    std::optional<std::string> m_output;
    std::string m_key_format = "note";
    std::string m_identifier;
    std::string m_id_type;
    bool m_json = false;
};

} // namespace

std::unique_ptr<Command> make_audit_command() {
    return std::make_unique<AuditCommand>();
}

} // namespace lethe::cli
