#include "store/audit_log.hpp"

#include "crypto/crypto.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <charconv>
#include <iterator>

namespace lethe::store {
namespace {

constexpr std::string_view k_domain_tag = "lethe.audit.v1";

void append_field(std::string& out, std::string_view field) {
    const auto n = static_cast<std::uint32_t>(field.size());
    const char len[4] = {static_cast<char>(n >> 24 & 0xff), static_cast<char>(n >> 16 & 0xff),
                         static_cast<char>(n >> 8 & 0xff), static_cast<char>(n & 0xff)};
    out.append(len, 4);
    out.append(field);
}

} // namespace

AuditEntryView view_of(const AuditEntry& e) {
    return AuditEntryView{e.seq,    e.at,        e.event, e.request_ref, e.subject_digest,
                          e.detail, e.prev_hash, e.hash};
}

void append_audit_entry_encoding(std::string& out, const AuditEntryView& e) {
    // seq as decimal ASCII without leading zeros; to_chars neither allocates nor uses a locale.
    char seq_text[24];
    const auto [end, ec] = std::to_chars(std::begin(seq_text), std::end(seq_text), e.seq);
    (void)ec; // an int64 always fits in 24 characters
    append_field(out, k_domain_tag);
    append_field(out, std::string_view(seq_text, static_cast<std::size_t>(end - seq_text)));
    append_field(out, e.at);
    append_field(out, e.event);
    append_field(out, e.request_ref);
    append_field(out, e.subject_digest);
    append_field(out, e.detail);
    append_field(out, e.prev_hash);
}

std::string audit_entry_encoding(const AuditEntry& e) {
    std::string out;
    out.reserve(160 + e.detail.size() + e.event.size() + e.request_ref.size());
    append_audit_entry_encoding(out, view_of(e));
    return out;
}

std::string audit_entry_hash(const AuditEntry& e) {
    return to_hex(crypto::sha256(audit_entry_encoding(e)));
}

ChainHead read_chain_head(SQLite::Database& db) {
    SQLite::Statement q(db, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
    ChainHead head;
    if (q.executeStep()) {
        head.size = q.getColumn(0).getInt64();
        head.hash = q.getColumn(1).getString();
    }
    return head;
}

AuditAppender::AuditAppender(SQLite::Database& db, const Clock& clock)
    : m_clock(clock), m_head(read_chain_head(db)),
      m_insert(db, "INSERT INTO audit_log (seq, at, event, request_ref, subject_digest, detail, "
                   "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
      m_tree(db) {
}

void AuditAppender::resume(SQLite::Database& db) {
    ChainHead now = read_chain_head(db);
    // The chain hash covers every entry before it: the same size and hash, the same log.
    if (now.size != m_head.size || now.hash != m_head.hash) {
        m_head = std::move(now);
        m_tree.forget();
    }
}

void AuditAppender::reset() {
    m_insert.reset();
    m_tree.reset();
}

std::int64_t AuditAppender::append(std::string_view event, std::string_view request_ref,
                                   std::string_view subject_digest, std::string_view detail_json) {
    AuditEntry e;
    e.seq = m_head.size + 1;
    e.at = format_iso8601_ms(m_clock.now_ms());
    e.event = event;
    e.request_ref = request_ref;
    e.subject_digest = subject_digest;
    e.detail = detail_json.empty() ? "{}" : std::string(detail_json);
    e.prev_hash = m_head.hash;
    e.hash = audit_entry_hash(e);

    m_insert.reset();
    m_insert.bind(1, e.seq);
    m_insert.bind(2, e.at);
    m_insert.bind(3, e.event);
    m_insert.bind(4, e.request_ref);
    m_insert.bind(5, e.subject_digest);
    m_insert.bind(6, e.detail);
    m_insert.bind(7, e.prev_hash);
    m_insert.bind(8, e.hash);
    m_insert.exec();
    m_tree.append(m_head.size, m_head.hash, e.hash);
    m_head.size = e.seq;
    m_head.hash = std::move(e.hash);
    return e.seq;
}

} // namespace lethe::store
