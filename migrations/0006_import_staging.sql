-- lethe schema, version 6: imports in chunks (issue 16, point 6).
-- An import used to be one transaction, holding the write lock for its whole run (76.6 s for
-- 1,000,000 rows): the worker and the intake waited that long. Now an import stages its rows
-- here in short transactions, commits its batch in one small transaction (the import's commit
-- point: before it, the import never happened; after it, it will complete), then moves the rows
-- into requests in short transactions, each row with its request.received entry
-- (store/import_staging.hpp). Nothing but that module writes these tables.

CREATE TABLE import_batches (
    id         INTEGER PRIMARY KEY,
    state      TEXT    NOT NULL CHECK (state IN ('staging', 'committed')),
    created_at INTEGER NOT NULL
);

-- A validated request of a batch: store::NewRequest, with its identifier sealed like the
-- requests' (associated data: its request_id).
CREATE TABLE import_staging (
    batch             INTEGER NOT NULL REFERENCES import_batches (id),
    seq               INTEGER NOT NULL,
    request_id        TEXT    NOT NULL,
    identifier        BLOB    NOT NULL,
    id_type           TEXT    NOT NULL,
    subject_digest    TEXT    NOT NULL,
    source            TEXT    NOT NULL,
    received_at       INTEGER NOT NULL,
    received_at_given INTEGER NOT NULL,
    workspaces        TEXT,
    legacy_digest     TEXT,
    legacy_request_id TEXT,
    PRIMARY KEY (batch, seq)
) WITHOUT ROWID;

CREATE INDEX import_staging_request_id ON import_staging (request_id);
CREATE INDEX import_staging_legacy_request_id ON import_staging (legacy_request_id)
    WHERE legacy_request_id IS NOT NULL;
