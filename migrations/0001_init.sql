-- lethe schema, version 1.
-- All times are INTEGER milliseconds since the Unix epoch (UTC), except audit_log.at,
-- which is the ISO 8601 text that the hash chain covers (see docs/audit-format.md).

CREATE TABLE requests (
    id               INTEGER PRIMARY KEY,
    request_id       TEXT    NOT NULL UNIQUE,              -- caller's idempotency key
    identifier       TEXT,                                 -- raw; NULL once the request is done
    id_type          TEXT    NOT NULL CHECK (id_type IN ('id', 'email', 'cio_id')),
    subject_digest   TEXT    NOT NULL,                     -- hex HMAC-SHA256 under the subject key
    source           TEXT    NOT NULL,                     -- 'file.csv:12', 'cli', 'http'
    received_at      INTEGER NOT NULL,                     -- the GDPR clock starts here
    deadline_at      INTEGER NOT NULL,
    extended_reason  TEXT,                                 -- set once by `lethe extend`
    state            TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'suppressed', 'done', 'dead', 'cancelled')),
    linked_to        INTEGER REFERENCES requests(id),      -- the active request for the same subject
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    CHECK (state <> 'done' OR identifier IS NULL),
    CHECK (linked_to IS NULL OR linked_to <> id)
);

-- Matches the claim query: due primaries in an active state, oldest due first.
CREATE INDEX requests_claim ON requests (next_attempt_at)
    WHERE state IN ('pending', 'suppressed') AND linked_to IS NULL;

-- At most one active primary per subject; duplicates are linked to it.
CREATE UNIQUE INDEX requests_active_subject ON requests (subject_digest)
    WHERE state IN ('pending', 'suppressed') AND linked_to IS NULL;

CREATE INDEX requests_linked ON requests (linked_to) WHERE linked_to IS NOT NULL;
CREATE INDEX requests_state ON requests (state, deadline_at);

CREATE TABLE audit_log (
    seq            INTEGER PRIMARY KEY,                    -- 1, 2, 3, ... without gaps
    at             TEXT    NOT NULL,                       -- ISO 8601 UTC, millisecond precision
    event          TEXT    NOT NULL,
    request_ref    TEXT    NOT NULL DEFAULT '',            -- request_id, or '' for worker events
    subject_digest TEXT    NOT NULL DEFAULT '',
    detail         TEXT    NOT NULL DEFAULT '{}',          -- JSON, no personal data
    prev_hash      TEXT    NOT NULL,
    hash           TEXT    NOT NULL
);

CREATE INDEX audit_subject ON audit_log (subject_digest) WHERE subject_digest <> '';
CREATE INDEX audit_at ON audit_log (at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END;

-- An entry must extend the current head: the next seq, and prev_hash equal to the head's hash
-- (64 zeros for the first entry).
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log)
  OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1),
                                   '0000000000000000000000000000000000000000000000000000000000000000')
BEGIN
    SELECT RAISE(ABORT, 'audit_log: entry does not extend the head of the chain');
END;

-- Signed statements of (size, head hash); written by later features, kept in the schema now.
CREATE TABLE checkpoints (
    id         INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    size       INTEGER NOT NULL,
    head_hash  TEXT    NOT NULL,
    note       TEXT    NOT NULL                            -- the signed note, as written to disk
);
