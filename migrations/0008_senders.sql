-- lethe schema, version 8: named intake senders, status queries and completion callbacks
-- (issue 18; docs/intake.md, "Senders" and "Callbacks").

-- The [[intake.sender]] that submitted a request; NULL when it did not come over HTTP. Before
-- senders existed every HTTP request came through the one [intake] secret, which is now the
-- sender "default".
ALTER TABLE requests ADD COLUMN sender TEXT;
UPDATE requests SET sender = 'default' WHERE source = 'http';

-- 1 when its sender had a callback_url when the request was submitted: reaching done, dead or
-- cancelled then writes a callback event (the trigger below).
ALTER TABLE requests ADD COLUMN callback INTEGER NOT NULL DEFAULT 0 CHECK (callback IN (0, 1));

-- The durable outbox of completion callbacks. A row is written by the trigger below in the
-- transaction that changes the request's state, whichever code or process changes it; the
-- delivery loop (src/callback/) sends it, in id order per request.
CREATE TABLE callback_events (
    id               INTEGER PRIMARY KEY,
    event_id         TEXT    NOT NULL UNIQUE,             -- the receiver's idempotency key
    request          INTEGER NOT NULL REFERENCES requests(id),
    sender           TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('done', 'dead', 'cancelled')),
    occurred_at      INTEGER NOT NULL,                    -- when the request reached `state`
    status           TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    retry_since      INTEGER NOT NULL,                    -- retried for callback_retry_hours from here
    next_attempt_at  INTEGER NOT NULL,
    lease_expires_at INTEGER,                             -- a delivery in progress
    last_error       TEXT,                                -- lethe's words: "HTTP 500", "timeout"
    body             TEXT,                                -- the JSON sent, fixed at the first attempt
    delivered_at     INTEGER
);

CREATE INDEX callback_events_due ON callback_events (next_attempt_at) WHERE status = 'pending';
CREATE INDEX callback_events_request ON callback_events (request, id);

CREATE TRIGGER requests_callback AFTER UPDATE OF state ON requests
WHEN NEW.callback = 1 AND NEW.sender IS NOT NULL AND OLD.state IS NOT NEW.state
 AND NEW.state IN ('done', 'dead', 'cancelled')
BEGIN
    INSERT INTO callback_events (event_id, request, sender, state, occurred_at, retry_since,
                                 next_attempt_at)
    VALUES (lower(hex(randomblob(16))), NEW.id, NEW.sender, NEW.state, NEW.updated_at,
            NEW.updated_at, NEW.updated_at);
END;
