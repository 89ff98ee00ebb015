#include "audit/checkpoint.hpp"

#include "audit/chain.hpp"
#include "audit/keys.hpp"
#include "crypto/merkle.hpp"
#include "store/audit_queries.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace lethe::audit {
namespace {

constexpr std::string_view k_latest_name = "latest.note";

std::string hostname() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') {
        return "localhost";
    }
    return buf;
}

// True when checkpoint_dir exists. A symlink is refused, not followed (it would let whoever can
// change the link decide which notes are trusted and where new ones go), and so is anything but
// a directory. Throws ConfigError naming the directory.
bool checkpoint_dir_exists(const std::filesystem::path& dir) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
        if (errno == ENOENT) {
            return false;
        }
        throw ConfigError(dir.string() + ": checkpoint_dir: cannot stat: " + std::strerror(errno));
    }
    if (S_ISLNK(st.st_mode)) {
        throw ConfigError(dir.string() +
                          ": checkpoint_dir is a symbolic link, which lethe does not follow; set "
                          "[audit] checkpoint_dir to the real directory");
    }
    if (!S_ISDIR(st.st_mode)) {
        throw ConfigError(dir.string() + ": checkpoint_dir is " + file_type_name(st.st_mode) +
                          ", not a directory");
    }
    return true;
}

void ensure_private_dir(const std::filesystem::path& dir) {
    if (checkpoint_dir_exists(dir)) {
        return;
    }
    std::filesystem::create_directories(dir);
    ::chmod(dir.c_str(), 0700);
}

// True when a stored note states a Merkle root (not a checkpoint of lethe before the tree).
bool signed_by(std::string_view note, const NoteVerifierKey& key) {
    std::string error;
    auto parsed = parse_note(note, error);
    return parsed && check_note(*parsed, key) == NoteCheck::ok;
}

bool stored_has_root(std::string_view note) {
    std::string error;
    auto parsed = parse_note(note, error);
    auto cp = parsed ? parse_checkpoint_text(parsed->text, error) : std::nullopt;
    return cp && !cp->legacy();
}

} // namespace

std::string checkpoint_text(const Checkpoint& cp) {
    if (!valid_note_key_name(cp.origin)) {
        throw std::invalid_argument("checkpoint origin is not a valid note key name");
    }
    auto root = from_hex(cp.root_hash);
    if (!is_hash_hex(cp.root_hash) || !root || !is_hash_hex(cp.head_hash)) {
        throw std::invalid_argument("checkpoint root or head hash is not 64 hex digits");
    }
    return cp.origin + "\n" + std::to_string(cp.size) + "\n" + crypto::base64_encode(*root) + "\n" +
           std::string(k_chain_head_prefix) + cp.head_hash + "\n";
}

namespace {

// Reads the extension lines after the first three: the chain head, if any. Lines lethe does not
// know are ignored (C2SP tlog-checkpoint lets a log add its own).
bool read_extensions(std::string_view text, Checkpoint& cp, std::string& error) {
    bool seen = false;
    while (!text.empty()) {
        const auto eol = text.find('\n');
        if (eol == std::string_view::npos || eol == 0) {
            error = "checkpoint text has an empty or unterminated extension line";
            return false;
        }
        const std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol + 1);
        if (!line.starts_with(k_chain_head_prefix)) {
            continue;
        }
        const std::string_view hex = line.substr(k_chain_head_prefix.size());
        if (seen || !is_hash_hex(hex)) {
            error = seen ? "checkpoint has two chain-head lines"
                         : "checkpoint chain-head is not 64 lower-case hex digits";
            return false;
        }
        seen = true;
        cp.head_hash = std::string(hex);
    }
    if (!seen) {
        // lethe before the Merkle tree signed the chain head as the third line.
        cp.head_hash = std::move(cp.root_hash);
        cp.root_hash.clear();
    }
    return true;
}

} // namespace

std::optional<Checkpoint> parse_checkpoint_text(std::string_view text, std::string& error) {
    std::string_view lines[3];
    for (auto& line : lines) {
        auto eol = text.find('\n');
        if (eol == std::string_view::npos) {
            error = "checkpoint text has fewer than three lines";
            return std::nullopt;
        }
        line = text.substr(0, eol);
        text.remove_prefix(eol + 1);
        if (line.empty()) {
            error = "checkpoint text has an empty line";
            return std::nullopt;
        }
    }
    Checkpoint cp;
    cp.origin = lines[0];
    auto size = parse_int64(lines[1]);
    if (!size || (lines[1].size() > 1 && lines[1][0] == '0')) {
        error = "checkpoint size is not a decimal number without leading zeros";
        return std::nullopt;
    }
    cp.size = *size;
    std::string raw;
    if (!crypto::base64_decode(lines[2], raw) || raw.size() != crypto::k_sha256_size ||
        crypto::base64_encode(raw) != lines[2]) {
        error = "checkpoint root hash is not the Base64 of 32 bytes";
        return std::nullopt;
    }
    cp.root_hash = to_hex(raw);
    if (!read_extensions(text, cp, error)) {
        return std::nullopt;
    }
    return cp;
}

std::string checkpoint_origin(const config::Config& cfg) {
    std::string origin = cfg.audit.origin.empty() ? "lethe/" + hostname() : cfg.audit.origin;
    if (!valid_note_key_name(origin)) {
        throw ConfigError((cfg.source.empty() ? std::string("config") : cfg.source.string()) +
                          ": audit.origin: \"" + origin +
                          "\" cannot name a checkpoint key (no spaces, no '+', not empty)");
    }
    return origin;
}

CheckpointSigner CheckpointSigner::from_config(const config::Config& cfg) {
    CheckpointSigner signer(checkpoint_origin(cfg),
                            load_checkpoint_key(cfg.audit.checkpoint_key_file));
    if (!cfg.audit.previous_checkpoint_key_file.empty()) {
        signer.set_previous_key(load_checkpoint_key_file(cfg.audit.previous_checkpoint_key_file));
    }
    return signer;
}

CheckpointSigner::CheckpointSigner(std::string origin, crypto::Ed25519Key key)
    : m_origin(std::move(origin)), m_key(std::move(key)),
      m_verifier(note_verifier_key(m_origin, m_key)) {
}

TrustedKeys CheckpointSigner::trusted() const {
    TrustedKeys keys(m_verifier);
    if (m_previous_verifier) {
        keys.add(*m_previous_verifier);
    }
    return keys;
}

void CheckpointSigner::set_previous_key(crypto::Ed25519Key previous) {
    m_previous_verifier = note_verifier_key(m_origin, previous);
    m_previous = std::move(previous);
}

std::string CheckpointSigner::sign_text(const std::string& text) const {
    std::string note = sign_note(text, m_origin, m_key);
    if (m_previous) {
        note = add_note_signature(note, m_origin, *m_previous);
    }
    return note;
}

std::string CheckpointSigner::sign(std::int64_t size, std::string_view root_hash,
                                   std::string_view head_hash) const {
    return sign_text(checkpoint_text(
        Checkpoint{m_origin, size, std::string(root_hash), std::string(head_hash)}));
}

std::string CheckpointSigner::sign_statement(const Statement& s) const {
    return sign_text(statement_text(s));
}

NoteVerifierKey trusted_verifier_key(const std::optional<std::string>& key_text,
                                     const config::Config* cfg) {
    if (key_text) {
        std::string text = *key_text;
        std::string error;
        // A value that is not itself a key may be a file holding one.
        if (text.find('+') == std::string::npos || std::filesystem::exists(text)) {
            text = read_file(text, FileKind::verifier_key);
        }
        auto key = parse_verifier_key(text, error);
        if (!key) {
            throw ConfigError("--key: " + error);
        }
        return *key;
    }
    if (cfg == nullptr) {
        throw ConfigError("no verifier key: give --key or a configuration with a checkpoint key");
    }
    return CheckpointSigner::from_config(*cfg).verifier_key();
}

TrustedKeys trusted_keys(const std::vector<std::string>& key_texts, const config::Config* cfg) {
    try {
        if (key_texts.empty()) {
            if (cfg == nullptr) {
                throw ConfigError(
                    "no verifier key: give --key or a configuration with a checkpoint key");
            }
            return CheckpointSigner::from_config(*cfg).trusted();
        }
        TrustedKeys keys(trusted_verifier_key(key_texts.front(), nullptr));
        for (std::size_t i = 1; i < key_texts.size(); ++i) {
            keys.add(trusted_verifier_key(key_texts[i], nullptr));
        }
        return keys;
    } catch (const std::invalid_argument& e) {
        throw ConfigError(std::string("--key: ") + e.what());
    }
}

std::optional<Checkpoint> open_checkpoint(std::string_view note, const TrustedKeys& key,
                                          std::string& error) {
    auto parsed = parse_note(note, error);
    if (!parsed) {
        return std::nullopt;
    }
    NoteCheck check = check_note(*parsed, key);
    if (check != NoteCheck::ok) {
        std::string signers;
        for (const auto& s : parsed->signatures) {
            char id[9];
            std::snprintf(id, sizeof id, "%08x", s.id);
            signers += (signers.empty() ? "" : ", ") + s.name + "+" + id;
        }
        error = std::string(describe(check)) + " (trusted key " + key.name() + ", signed by " +
                signers + ")";
        return std::nullopt;
    }
    auto cp = parse_checkpoint_text(parsed->text, error);
    if (!cp) {
        return std::nullopt;
    }
    if (cp->origin != key.name()) {
        error =
            "checkpoint origin \"" + cp->origin + "\" is not the key's name \"" + key.name() + "\"";
        return std::nullopt;
    }
    return cp;
}

std::string checkpoint_file_name(std::int64_t size, std::string_view head_hash) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "checkpoint-%012lld-%.8s.note", static_cast<long long>(size),
                  std::string(head_hash.substr(0, 8)).c_str());
    return buf;
}

std::vector<KnownCheckpoint> stored_checkpoints(store::AuditSnapshot& snap,
                                                const std::filesystem::path& checkpoint_dir,
                                                const TrustedKeys& key,
                                                std::vector<std::string>& skipped) {
    std::vector<std::pair<std::string, std::string>> notes; // (source, note)
    if (auto stored = snap.latest_checkpoint()) {
        notes.emplace_back("checkpoint #" + std::to_string(stored->id) + " in the database",
                           std::move(stored->note));
    }
    const auto latest_file = checkpoint_dir / k_latest_name;
    if (checkpoint_dir_exists(checkpoint_dir) && std::filesystem::exists(latest_file)) {
        notes.emplace_back(latest_file.string(), read_file(latest_file, FileKind::checkpoint_note));
    }
    std::vector<KnownCheckpoint> known;
    for (auto& [source, note] : notes) {
        std::string error;
        auto parsed = parse_note(note, error);
        if (parsed && check_note(*parsed, key) == NoteCheck::no_signature) {
            // Signed by another key: a changed key or origin is not tampering, and such a note
            // says nothing about this log as it is configured now.
            skipped.push_back(source + ": skipped, not signed by the trusted key");
            continue;
        }
        auto cp = open_checkpoint(note, key, error);
        if (!cp) {
            throw Error(ExitCode::failure, source + ": " + error);
        }
        known.push_back(KnownCheckpoint{std::move(*cp), std::move(source)});
    }
    return known;
}

namespace {

// Refuses (throws) when the log or its stored tree no longer has what checkpoint `k` states.
void check_extends_one(store::AuditSnapshot& snap, const KnownCheckpoint& k,
                       const std::function<void(std::int64_t, const std::string&)>& refuse) {
    const store::ChainHead head = snap.head();
    const auto& cp = k.checkpoint;
    if (cp.size > head.size) {
        refuse(head.size + 1, "missing: " + k.source + " covers " + std::to_string(cp.size) +
                                  " entries but the log has " + std::to_string(head.size) +
                                  " (entries were removed from the end)");
    }
    const auto at =
        cp.size == 0 ? std::optional<std::string>(store::k_genesis_hash) : snap.hash_at(cp.size);
    if (!at || *at != cp.head_hash) {
        refuse(std::max<std::int64_t>(cp.size, 1),
               "differs from " + k.source + " (the log was rewritten at or before it)");
    }
    if (!cp.legacy() && to_hex(snap.tree_root(cp.size)) != cp.root_hash) {
        refuse(std::max<std::int64_t>(cp.size, 1),
               "the stored Merkle tree's root at size " + std::to_string(cp.size) +
                   " differs from " + k.source + " (the tree or the log was rewritten)");
    }
}

} // namespace

std::string check_log_extends(store::Database& db, store::AuditSnapshot& snap,
                              const std::vector<KnownCheckpoint>& known, std::int64_t up_to,
                              std::string_view doing) {
    auto refuse = [&](std::int64_t seq, const std::string& what) {
        throw Error(ExitCode::failure, std::string(doing) + ": seq " + std::to_string(seq) + ": " +
                                           what + " (run `lethe audit verify`)");
    };
    const KnownCheckpoint* anchor = nullptr; // the newest checkpoint with a root at or below up_to
    for (const auto& k : known) {
        check_extends_one(snap, k, refuse);
        if (!k.checkpoint.legacy() && k.checkpoint.size <= up_to &&
            (anchor == nullptr || k.checkpoint.size > anchor->checkpoint.size)) {
            anchor = &k;
        }
    }
    const std::int64_t from = anchor == nullptr ? 1 : anchor->checkpoint.size + 1;
    auto chain = anchor == nullptr ? ChainVerifier::from_genesis()
                                   : ChainVerifier::anchored(from, anchor->checkpoint.head_hash);
    // The anchor's subtrees are vouched for by its signed root (checked above).
    auto tree = anchor == nullptr ? crypto::merkle::Frontier()
                                  : crypto::merkle::Frontier::load(from - 1, snap.tree_reader());
    store::AuditCursor cursor(db, store::SeqRange{from, up_to});
    store::AuditEntryView e;
    while (cursor.next(e) && chain.add(e)) {
        tree.push(store::audit_leaf_hash(e.hash));
    }
    if (!chain.finish()) {
        refuse(chain.failure()->seq, chain.failure()->what);
    }
    if (up_to >= from && chain.last_seq() != up_to) {
        refuse(chain.last_seq() + 1, "missing");
    }
    const std::string root = to_hex(tree.root());
    if (to_hex(snap.tree_root(up_to)) != root) {
        refuse(std::max<std::int64_t>(up_to, 1),
               "the stored Merkle tree's root at size " + std::to_string(up_to) +
                   " differs from the one recomputed from the entries (the tree was rewritten)");
    }
    return root;
}

std::filesystem::path write_checkpoint(store::Database& db, const config::Config& cfg,
                                       const Clock& clock) {
    const auto signer = CheckpointSigner::from_config(cfg);
    const auto& dir = cfg.audit.checkpoint_dir;
    store::ChainHead head;
    std::string root;
    std::optional<store::StoredCheckpoint> stored;
    {
        store::AuditSnapshot snap(db);
        head = snap.head();
        stored = snap.latest_checkpoint();
        std::vector<std::string> skipped;
        const auto known = stored_checkpoints(snap, dir, signer.trusted(), skipped);
        for (const auto& s : skipped) {
            spdlog::warn("{}", s);
        }
        root = check_log_extends(db, snap, known, head.size, "audit log: refusing to sign");
    }

    const auto path = dir / checkpoint_file_name(head.size, head.hash);
    // A checkpoint of the same head signed before the Merkle tree is signed again, with its root.
    // So is one signed by another key only (the first checkpoint after a key rotation).
    const bool unchanged = stored && stored->size == head.size && stored->head_hash == head.hash &&
                           stored_has_root(stored->note) &&
                           signed_by(stored->note, signer.verifier_key());
    if (unchanged && std::filesystem::exists(path)) {
        return path;
    }
    const std::string note = signer.sign(head.size, root, head.hash);
    if (!unchanged) {
        store::insert_checkpoint(db, clock.now_ms(), head.size, head.hash, note);
    }
    publish_checkpoint_note(dir, head.size, head.hash, note);
    return path;
}

void publish_checkpoint_note(const std::filesystem::path& dir, std::int64_t size,
                             std::string_view head_hash, const std::string& note) {
    ensure_private_dir(dir);
    write_file_atomic(dir / checkpoint_file_name(size, head_hash), note);
    write_file_atomic(dir / k_latest_name, note);
}

} // namespace lethe::audit
