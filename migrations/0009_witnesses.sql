-- lethe schema, version 9: witness cosignatures on checkpoints (issue 17; docs/audit-format.md,
-- "Witnesses").

-- The C2SP tlog-cosignature lines witnesses returned for a checkpoint. The stored note stays as
-- lethe signed it; the note shown, exported and written to checkpoint_dir is the note followed
-- by these lines (a signed note may carry any number of signatures).
CREATE TABLE witness_cosignatures (
    checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id),
    witness       TEXT    NOT NULL,               -- the witness's key name
    line          TEXT    NOT NULL,               -- "— NAME BASE64\n", as returned
    witness_time  INTEGER NOT NULL,               -- the time in the cosignature, POSIX seconds
    received_at   INTEGER NOT NULL,               -- ms
    PRIMARY KEY (checkpoint_id, witness)
);

CREATE TRIGGER witness_cosignatures_no_update BEFORE UPDATE ON witness_cosignatures
BEGIN
    SELECT RAISE(ABORT, 'witness_cosignatures is append-only: UPDATE refused');
END;

-- Submission state per configured witness: what it says it cosigned last and when to try again
-- while it is down or refuses.
CREATE TABLE witness_submissions (
    witness         TEXT    PRIMARY KEY,
    witness_size    INTEGER,                      -- the size it said it cosigned last (409); NULL: unknown
    attempts        INTEGER NOT NULL DEFAULT 0,   -- failures since the last cosignature
    next_attempt_at INTEGER NOT NULL DEFAULT 0,   -- ms
    last_error      TEXT,                         -- lethe's words: "HTTP 422: ...", "timeout"
    updated_at      INTEGER NOT NULL
);
