#pragma once

#include "store/database.hpp"
#include "store/requests.hpp"
#include "support/tempdir.hpp"
#include "util/clock.hpp"
#include "util/time.hpp"

#include <SQLiteCpp/Statement.h>
#include <string>
#include <vector>

namespace lethe::test {

// A fresh database in its own temporary directory, with a fake clock at 2026-11-22T12:00:00Z.
struct StoreFixture {
    TempDir dir;
    FakeClock clock{*parse_iso8601("2026-11-22T12:00:00Z")};
    store::Database db{dir / "lethe.db", store::OpenMode::create};
    // A fixed identifier key: the tests that care seal and open with it themselves.
    static std::string identifier_key() { return std::string(32, '\x5a'); }
    bool keyed = [this] {
        db.set_cipher_loader([] { return store::IdentifierCipher({identifier_key()}); });
        return true;
    }();

    // A request for `identifier` whose digest is "digest-" + identifier.
    store::NewRequest request(const std::string& request_id, const std::string& identifier) const {
        store::NewRequest r;
        r.request_id = request_id;
        r.identifier = identifier;
        r.id_type = "id";
        r.subject_digest = "digest-" + identifier;
        r.source = "test.csv:2";
        r.received_at = clock.now_ms() - 86'400'000;
        return r;
    }

    // The configured workspaces new requests get erasures in.
    std::vector<std::string> workspaces{"default"};

    store::InsertResult insert(const store::NewRequest& r) {
        store::WriteBatch batch(db, clock, workspaces);
        auto result = batch.insert(r);
        batch.commit();
        return result;
    }

    std::int64_t count(const std::string& sql) { return db.db().execAndGet(sql).getInt64(); }

    std::string state_of(const std::string& request_id) {
        SQLite::Statement q(db.db(), "SELECT state FROM requests WHERE request_id = ?");
        q.bind(1, request_id);
        return q.executeStep() ? q.getColumn(0).getString() : "(none)";
    }

    // The state of the request's erasure in `workspace`, or "(none)".
    std::string erasure_state(const std::string& request_id,
                              const std::string& workspace = "default") {
        SQLite::Statement q(db.db(), "SELECT e.state FROM erasures e JOIN requests r ON r.id = "
                                     "e.request WHERE r.request_id = ? AND e.workspace = ?");
        q.bind(1, request_id);
        q.bind(2, workspace);
        return q.executeStep() ? q.getColumn(0).getString() : "(none)";
    }

    // One integer column of the request's erasure in `workspace` (attempts, next_attempt_at, ...).
    std::int64_t erasure_int(const std::string& request_id, const std::string& column,
                             const std::string& workspace = "default") {
        SQLite::Statement q(db.db(),
                            "SELECT e." + column +
                                " FROM erasures e JOIN requests r ON "
                                "r.id = e.request WHERE r.request_id = ? AND e.workspace = ?");
        q.bind(1, request_id);
        q.bind(2, workspace);
        return q.executeStep() && !q.getColumn(0).isNull() ? q.getColumn(0).getInt64() : -1;
    }
};

} // namespace lethe::test
