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
                     CHECK (state IN ('pending', 'resolved', 'suppressed', 'erased', 'done',
                                      'dead', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,               -- every claim: the claim's token
    step_attempts    INTEGER NOT NULL DEFAULT 0,               -- claims of the current step
    verified         INTEGER CHECK (verified IN (0, 1)),       -- set when done: 0 = unverified
    profiles         INTEGER,                                  -- how many the last resolve found
    erased_at        INTEGER,                                  -- when the destroy step first succeeded
    erase_rounds     INTEGER NOT NULL DEFAULT 0,               -- erased again after "still present"
    checks           INTEGER NOT NULL DEFAULT 0,               -- verification reads
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
    WHERE state IN ('pending', 'resolved', 'suppressed', 'erased');

-- The profiles (cio_ids) a resolve found for an erasure: identifiers of the person, kept only
-- until the erasure is finished (deleted in the transaction that finishes it).
CREATE TABLE erasure_profiles (
    erasure INTEGER NOT NULL REFERENCES erasures(id),
    cio_id  TEXT    NOT NULL,
    PRIMARY KEY (erasure, cio_id)
) WITHOUT ROWID;

-- The work moved from the request to its erasures. The request's attempts, next_attempt_at and
-- lease columns stay for the requests of schema 1: the worker's first run gives each active one
-- its erasures, carrying that progress over when one workspace is configured (as in schema 1).
DROP INDEX requests_claim;
