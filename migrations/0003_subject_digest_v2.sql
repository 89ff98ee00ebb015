-- lethe schema, version 3: subject digest v2 (issue 15). An e-mail address is digested in ASCII
-- lower case, as Customer.io matches it (docs/audit-format.md, section 1). The requests that still
-- hold their identifier must be digested again, which needs the subject key, so it is not done
-- here: the first command that has the key (init, import, enqueue, run, serve) runs
-- store::redigest_pending() once and records it in this table.

-- One row per one-time upgrade step done by the code after a migration.
CREATE TABLE upgrade_steps (
    name    TEXT    PRIMARY KEY,
    done_at INTEGER NOT NULL
);

-- Nothing to re-digest when no request holds an e-mail address (a new database): done now.
INSERT INTO upgrade_steps (name, done_at)
SELECT 'subject_digest_v2', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
WHERE NOT EXISTS (SELECT 1 FROM requests WHERE identifier IS NOT NULL AND id_type = 'email');
