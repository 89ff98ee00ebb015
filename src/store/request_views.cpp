#include "store/request_views.hpp"

#include <SQLiteCpp/Statement.h>

namespace lethe::store {
namespace {

constexpr const char* k_view_columns =
    "SELECT id, request_id, state, received_at, deadline_at, finished_at, "
    "COALESCE(linked_to, id) FROM requests ";

std::optional<RequestView> read_view(SQLite::Database& db, SQLite::Statement& q) {
    if (!q.executeStep()) {
        return std::nullopt;
    }
    RequestView v;
    v.row = q.getColumn(0).getInt64();
    v.request_id = q.getColumn(1).getString();
    v.state = q.getColumn(2).getString();
    v.received_at = q.getColumn(3).getInt64();
    v.deadline_at = q.getColumn(4).getInt64();
    if (!q.getColumn(5).isNull()) {
        v.finished_at = q.getColumn(5).getInt64();
    }
    const std::int64_t erased_by = q.getColumn(6).getInt64();
    SQLite::Statement e(db, "SELECT workspace, state, verified FROM erasures WHERE request = ? "
                            "ORDER BY workspace");
    e.bind(1, erased_by);
    while (e.executeStep()) {
        ErasureProgress p;
        p.workspace = e.getColumn(0).getString();
        p.state = e.getColumn(1).getString();
        if (!e.getColumn(2).isNull()) {
            p.verified = e.getColumn(2).getInt() == 1;
        }
        v.erasures.push_back(std::move(p));
    }
    return v;
}

} // namespace

std::optional<RequestView> find_sender_request(SQLite::Database& db, std::string_view sender,
                                               std::string_view request_id) {
    SQLite::Statement q(db, std::string(k_view_columns) + "WHERE request_id = ? AND sender = ?");
    q.bind(1, std::string(request_id));
    q.bind(2, std::string(sender));
    return read_view(db, q);
}

std::optional<RequestView> request_view(SQLite::Database& db, std::int64_t row) {
    SQLite::Statement q(db, std::string(k_view_columns) + "WHERE id = ?");
    q.bind(1, row);
    return read_view(db, q);
}

} // namespace lethe::store
