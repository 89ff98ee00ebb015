-- lethe schema, version 2: several Customer.io workspaces (issue 14).
-- A request is erased from every workspace it applies to. Each (request, workspace) pair is an
-- erasure: its own unit of work with its own state, attempts, backoff and lease. The request's
-- state is the aggregate of its erasures' (src/erasure/lifecycle.hpp).

-- NULL: every configured workspace; else the names it applies to, sorted, comma-separated.
ALTER TABLE requests ADD COLUMN workspaces TEXT;

CREATE TABLE erasures (
    id               INTEGER PRIMARY KEY,
    request          INTEGER NOT NULL REFERENCES requests(id),
    workspace        TEXT    NOT NULL,                      -- [[workspace]] name
    state            TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'suppressed', 'done', 'dead', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    UNIQUE (request, workspace)
);

-- Matches the claim query: due erasures of one workspace, oldest due first.
CREATE INDEX erasures_claim ON erasures (workspace, next_attempt_at)
    WHERE state IN ('pending', 'suppressed');

-- The work moved from the request to its erasures. The request's attempts, next_attempt_at and
-- lease columns stay for the requests of schema 1: the worker's first run gives each active one
-- its erasures, carrying that progress over when one workspace is configured (as in schema 1).
DROP INDEX requests_claim;
