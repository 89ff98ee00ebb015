#pragma once

#include "../store/fixture.hpp"
#include "audit/checkpoint.hpp"
#include "audit/keys.hpp"
#include "config/config.hpp"
#include "store/audit_log.hpp"
#include "store/audit_queries.hpp"

#include <SQLiteCpp/Transaction.h>
#include <string>
#include <vector>

namespace lethe::test {

// A valid chain of `n` entries built with the real hash, without a database.
inline std::vector<store::AuditEntry> make_chain(int n) {
    std::vector<store::AuditEntry> out;
    out.reserve(static_cast<std::size_t>(n));
    std::string prev(store::k_genesis_hash);
    for (int i = 1; i <= n; ++i) {
        store::AuditEntry e{i, "2026-11-22T12:00:00.000Z", "test.event", "R", "", "{}", prev, ""};
        e.hash = store::audit_entry_hash(e);
        prev = e.hash;
        out.push_back(e);
    }
    return out;
}

// A fresh database with a checkpoint key, a checkpoint_dir and a configuration naming them.
struct AuditFixture : StoreFixture {
    config::Config cfg = make_config(dir);

    static config::Config make_config(const TempDir& d) {
        config::Config c;
        c.database.path = d / "lethe.db";
        c.audit.checkpoint_key_file = d / "checkpoint.key";
        c.audit.subject_key_file = d / "subject.key";
        c.audit.checkpoint_dir = d / "checkpoints";
        c.audit.origin = "lethe/test";
        audit::create_checkpoint_key(c.audit.checkpoint_key_file);
        audit::create_subject_key(c.audit.subject_key_file);
        return c;
    }

    audit::CheckpointSigner signer() const { return audit::CheckpointSigner::from_config(cfg); }

    // Appends `n` worker-style entries, one millisecond apart.
    void append(int n, const std::string& event = "test.event") {
        SQLite::Transaction tx(db.db());
        store::AuditAppender a(db.db(), clock);
        for (int i = 0; i < n; ++i) {
            a.append(event, "R" + std::to_string(i), "", R"({"i":)" + std::to_string(i) + "}");
            clock.advance(1);
        }
        tx.commit();
    }

    // Removes the append-only triggers, as someone editing the file by hand could.
    void drop_triggers() {
        db.db().exec("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; "
                     "DROP TRIGGER audit_log_chain");
    }
};

} // namespace lethe::test
