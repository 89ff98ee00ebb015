#pragma once

#include "audit/note.hpp"
#include "audit/statement.hpp"
#include "config/config.hpp"
#include "crypto/crypto.hpp"
#include "store/audit_queries.hpp"
#include "store/database.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Signed checkpoints of the audit log: C2SP tlog-checkpoint notes over (origin, size, Merkle
// root) with the chain head as an extension line, signed with the Ed25519 checkpoint key
// (docs/audit-format.md, "Checkpoints").
namespace lethe::audit {

// The extension line that carries the chain head: "chain-head <64 hex digits>".
inline constexpr std::string_view k_chain_head_prefix = "chain-head ";

// What a checkpoint states: the log named `origin` had `size` entries, whose RFC 6962 Merkle
// tree has root `root_hash` and whose last entry hashes to `head_hash` (both hex; for size 0
// the empty tree's root and the genesis hash). A note of lethe before the Merkle tree (no
// chain-head line: its third line is the chain head) has an empty `root_hash`.
struct Checkpoint {
    std::string origin;
    std::int64_t size = 0;
    std::string root_hash; // empty: a legacy checkpoint, which states the chain head only
    std::string head_hash;

    bool legacy() const { return root_hash.empty(); }
};

// The note text "<origin>\n<size>\n<base64(root)>\nchain-head <head hex>\n". Throws
// std::invalid_argument when the origin is not a valid key name, a hash is not 64 hex digits or
// the checkpoint is legacy (lethe signs only checkpoints with a root).
std::string checkpoint_text(const Checkpoint& cp);

// Parses a note text back into a checkpoint (legacy when it has no chain-head line); nullopt
// (reason in `error`) when malformed.
std::optional<Checkpoint> parse_checkpoint_text(std::string_view text, std::string& error);

// The origin (and note key name) of this installation's log: [audit] origin, else
// "lethe/<hostname>". Throws lethe::ConfigError when it cannot be a note key name.
std::string checkpoint_origin(const config::Config& cfg);

// Signs checkpoints with the configured key under the configured origin.
class CheckpointSigner {
public:
    // Loads the checkpoint key. Throws lethe::ConfigError naming the key file or the origin.
    static CheckpointSigner from_config(const config::Config& cfg);
    CheckpointSigner(std::string origin, crypto::Ed25519Key key);

    // The signed note for (size, Merkle root, chain head), hashes in hex. Throws
    // std::invalid_argument on a malformed hash.
    std::string sign(std::int64_t size, std::string_view root_hash,
                     std::string_view head_hash) const;
    // The signed note of a statement (audit/statement.hpp) under this signer's origin. Throws
    // std::invalid_argument on a malformed statement.
    std::string sign_statement(const Statement& s) const;
    const std::string& origin() const { return m_origin; }
    // The key that verifies this signer's notes.
    const NoteVerifierKey& verifier_key() const { return m_verifier; }
    // The keys of this signer's notes: its own and, during a rotation, the previous one.
    TrustedKeys trusted() const;
    // During a key rotation, also signs every note with the previous key (second signature
    // line), so that the handover checkpoint is signed by both.
    void set_previous_key(crypto::Ed25519Key previous);
    // The previous key's verifier key, when there is one.
    const std::optional<NoteVerifierKey>& previous_verifier_key() const {
        return m_previous_verifier;
    }

private:
    // Signs `text` with the key, and with the previous key when there is one.
    std::string sign_text(const std::string& text) const;
    std::string m_origin;
    crypto::Ed25519Key m_key;
    NoteVerifierKey m_verifier;
    std::optional<crypto::Ed25519Key> m_previous;
    std::optional<NoteVerifierKey> m_previous_verifier;
};

// The trusted verifier key: `key_text` (a verifier key, or a file holding one) when given, else
// derived from the configured checkpoint key. Throws lethe::ConfigError when neither works.
NoteVerifierKey trusted_verifier_key(const std::optional<std::string>& key_text,
                                     const config::Config* cfg);

// The trusted keys: each of `key_texts` (as trusted_verifier_key reads one) when any is given,
// else the configured checkpoint key's and, during a key rotation, the previous key's
// ([audit] previous_checkpoint_key_file). Throws lethe::ConfigError when a key does not parse,
// the names differ, or there is neither a key nor a configuration.
TrustedKeys trusted_keys(const std::vector<std::string>& key_texts, const config::Config* cfg);

// Parses a signed checkpoint and checks its signature against `key` and its origin against the
// key's name. Returns nullopt with the reason in `error` when any of that fails.
std::optional<Checkpoint> open_checkpoint(std::string_view note, const TrustedKeys& key,
                                          std::string& error);

// A signed checkpoint, opened and signature-checked, and where it came from (for messages).
struct KnownCheckpoint {
    Checkpoint checkpoint;
    std::string source;
};

// The checkpoints this installation signed before: the largest one in the database and
// `checkpoint_dir`/latest.note (the copy shipped off the machine may outlive the database's).
// Notes without a signature line by `key` (the key or origin was changed) are skipped, each
// described in `skipped`. Throws lethe::Error (failure) when a note is malformed or its signature
// by `key` does not verify.
std::vector<KnownCheckpoint> stored_checkpoints(store::AuditSnapshot& snap,
                                                const std::filesystem::path& checkpoint_dir,
                                                const TrustedKeys& key,
                                                std::vector<std::string>& skipped);

// Checks, inside `snap`, that the log still extends every checkpoint in `known` (the entry at each
// checkpoint's size still has its hash, the stored tree its root) and that the chain from the
// newest of them at or below `up_to` with a root (else from the genesis) to entry `up_to` is
// intact. Returns the Merkle root (hex) of the first `up_to` entries, recomputed from that
// checkpoint's subtrees and the entries after it. `doing` starts the message. Throws
// lethe::Error (failure) naming the first bad seq otherwise: nothing is ever signed over a
// rewritten or truncated log.
std::string check_log_extends(store::Database& db, store::AuditSnapshot& snap,
                              const std::vector<KnownCheckpoint>& known, std::int64_t up_to,
                              std::string_view doing);

// Signs the current head after checking that the log is consistent with the latest checkpoint
// already signed (none are ever signed over a rewritten log), stores the note in the checkpoints
// table and writes it atomically (mode 0600) into checkpoint_dir, also as `latest.note`. When the
// head is unchanged since the last checkpoint, nothing new is written. Returns the note's path.
// Throws lethe::Error (failure) when the log is inconsistent, ConfigError for a bad key.
std::filesystem::path write_checkpoint(store::Database& db, const config::Config& cfg,
                                       const Clock& clock);

// Writes `note` (a checkpoint of `size` entries and chain head `head_hash`, with whatever
// cosignatures it carries) atomically, mode 0600, into checkpoint_dir as its own file and as
// latest.note. Throws ConfigError when checkpoint_dir is not a directory, std::runtime_error on
// I/O failure.
void publish_checkpoint_note(const std::filesystem::path& dir, std::int64_t size,
                             std::string_view head_hash, const std::string& note);

// Name of the file a checkpoint is written to inside checkpoint_dir.
std::string checkpoint_file_name(std::int64_t size, std::string_view head_hash);

} // namespace lethe::audit
