-- lethe schema, version 7: an RFC 6962 Merkle tree over the audit log (issue 17).
-- The leaf of entry seq s is leaf index s - 1, its data the entry hash's 32 raw bytes. This
-- table keeps the hash of every complete subtree of level 1 and above: (level, idx) covers
-- leaves [idx * 2^level, (idx + 1) * 2^level), as Go's tlog stored hashes. Level 0 (the leaf
-- hashes) is not stored: it is SHA-256(0x00 || entry hash) of audit_log.hash. A proof for any
-- entry reads O(log n) rows. Rows are written only by store::AuditAppender, in the transaction
-- of the entry that completes the subtree (and, once, by the backfill that follows this
-- migration for the entries already in the log); like audit_log, they are never changed.
CREATE TABLE audit_tree (
    level INTEGER NOT NULL CHECK (level >= 1),
    idx   INTEGER NOT NULL CHECK (idx >= 0),
    hash  BLOB    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TRIGGER audit_tree_no_update BEFORE UPDATE ON audit_tree
BEGIN
    SELECT RAISE(ABORT, 'audit_tree is append-only');
END;

CREATE TRIGGER audit_tree_no_delete BEFORE DELETE ON audit_tree
BEGIN
    SELECT RAISE(ABORT, 'audit_tree is append-only');
END;
