#pragma once

#include "store/database.hpp"
#include "store/requests.hpp"
#include "support/tempdir.hpp"
#include "util/clock.hpp"
#include "util/time.hpp"

#include <SQLiteCpp/Statement.h>

namespace lethe::test {

// A fresh database in its own temporary directory, with a fake clock at 2026-11-22T12:00:00Z.
struct StoreFixture {
    TempDir dir;
    FakeClock clock{*parse_iso8601("2026-11-22T12:00:00Z")};
    store::Database db{dir / "lethe.db", store::OpenMode::create};

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

    store::InsertResult insert(const store::NewRequest& r) {
        store::WriteBatch batch(db, clock);
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
};

} // namespace lethe::test
