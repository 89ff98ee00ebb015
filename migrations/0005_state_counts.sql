-- lethe schema, version 5: counts for /metrics kept by triggers (issue 16, point 5).
-- A scrape used to count every request and erasure (GROUP BY state: O(requests), 2.66 s at 300k
-- pending). These tables hold the counts instead, changed by triggers in the same transaction
-- as the row they count, whichever process writes (import, run, serve): a scrape reads a few
-- rows. Only store/metrics_queries.cpp reads them; nothing writes them but these triggers.

-- Rows per (kind, workspace, state): kind 'request' (workspace ''), 'erasure', and 'unverified'
-- (erasures done without a read-back, state 'done').
CREATE TABLE state_counts (
    kind      TEXT    NOT NULL,
    workspace TEXT    NOT NULL,
    state     TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (kind, workspace, state)
) WITHOUT ROWID;

-- Requests not erased (pending, suppressed, dead) per hour of their deadline (deadline_at / 3600000):
-- the overdue count is the sum of the past hours plus a count of the current hour's rows.
CREATE TABLE open_deadlines (
    hour INTEGER PRIMARY KEY,
    n    INTEGER NOT NULL
);

INSERT INTO state_counts (kind, workspace, state, n)
SELECT 'request', '', state, count(*) FROM requests GROUP BY state;
INSERT INTO state_counts (kind, workspace, state, n)
SELECT 'erasure', workspace, state, count(*) FROM erasures GROUP BY workspace, state;
INSERT INTO state_counts (kind, workspace, state, n)
SELECT 'unverified', workspace, 'done', count(*) FROM erasures
 WHERE state = 'done' AND verified = 0 GROUP BY workspace;
INSERT INTO open_deadlines (hour, n)
SELECT deadline_at / 3600000, count(*) FROM requests
 WHERE state IN ('pending', 'suppressed', 'dead') GROUP BY deadline_at / 3600000;

-- The oldest active request without reading them all (lethe_oldest_pending_seconds).
CREATE INDEX requests_active_received ON requests (received_at)
    WHERE state IN ('pending', 'suppressed');

-- A request state that no row has yet still has its row, so the request triggers only UPDATE.
INSERT INTO state_counts (kind, workspace, state, n)
SELECT 'request', '', s.state, 0
  FROM (SELECT 'pending' AS state UNION ALL SELECT 'suppressed' UNION ALL SELECT 'done'
        UNION ALL SELECT 'dead' UNION ALL SELECT 'cancelled') s
 WHERE NOT EXISTS (SELECT 1 FROM state_counts c
                    WHERE c.kind = 'request' AND c.workspace = '' AND c.state = s.state);

-- The triggers are split by their WHEN clauses so that an insert runs only the statements that
-- change something (an import of pending requests: one UPDATE and one upsert per request, one
-- upsert per erasure).
CREATE TRIGGER requests_count_insert AFTER INSERT ON requests
BEGIN
    UPDATE state_counts SET n = n + 1
     WHERE kind = 'request' AND workspace = '' AND state = NEW.state;
END;

CREATE TRIGGER requests_open_insert AFTER INSERT ON requests
WHEN NEW.state IN ('pending', 'suppressed', 'dead')
BEGIN
    INSERT INTO open_deadlines (hour, n) VALUES (NEW.deadline_at / 3600000, 1)
        ON CONFLICT (hour) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER requests_count_update AFTER UPDATE OF state ON requests
WHEN OLD.state IS NOT NEW.state
BEGIN
    UPDATE state_counts SET n = n - 1
     WHERE kind = 'request' AND workspace = '' AND state = OLD.state;
    UPDATE state_counts SET n = n + 1
     WHERE kind = 'request' AND workspace = '' AND state = NEW.state;
END;

CREATE TRIGGER requests_open_update AFTER UPDATE OF state, deadline_at ON requests
WHEN (OLD.state IN ('pending', 'suppressed', 'dead')) IS NOT
     (NEW.state IN ('pending', 'suppressed', 'dead'))
  OR (NEW.state IN ('pending', 'suppressed', 'dead') AND OLD.deadline_at IS NOT NEW.deadline_at)
BEGIN
    UPDATE open_deadlines SET n = n - 1
     WHERE hour = OLD.deadline_at / 3600000 AND OLD.state IN ('pending', 'suppressed', 'dead');
    DELETE FROM open_deadlines WHERE hour = OLD.deadline_at / 3600000 AND n = 0;
    INSERT INTO open_deadlines (hour, n)
    SELECT NEW.deadline_at / 3600000, 1 WHERE NEW.state IN ('pending', 'suppressed', 'dead')
        ON CONFLICT (hour) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER requests_count_delete AFTER DELETE ON requests
BEGIN
    UPDATE state_counts SET n = n - 1
     WHERE kind = 'request' AND workspace = '' AND state = OLD.state;
    UPDATE open_deadlines SET n = n - 1
     WHERE hour = OLD.deadline_at / 3600000 AND OLD.state IN ('pending', 'suppressed', 'dead');
    DELETE FROM open_deadlines WHERE hour = OLD.deadline_at / 3600000 AND n = 0;
END;

CREATE TRIGGER erasures_count_insert AFTER INSERT ON erasures
BEGIN
    INSERT INTO state_counts (kind, workspace, state, n)
    VALUES ('erasure', NEW.workspace, NEW.state, 1)
        ON CONFLICT (kind, workspace, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER erasures_unverified_insert AFTER INSERT ON erasures
WHEN NEW.state = 'done' AND NEW.verified = 0
BEGIN
    INSERT INTO state_counts (kind, workspace, state, n)
    VALUES ('unverified', NEW.workspace, 'done', 1)
        ON CONFLICT (kind, workspace, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER erasures_count_update AFTER UPDATE OF state, verified, workspace ON erasures
WHEN OLD.state IS NOT NEW.state OR OLD.verified IS NOT NEW.verified
  OR OLD.workspace IS NOT NEW.workspace
BEGIN
    UPDATE state_counts SET n = n - 1
     WHERE kind = 'erasure' AND workspace = OLD.workspace AND state = OLD.state;
    INSERT INTO state_counts (kind, workspace, state, n)
    VALUES ('erasure', NEW.workspace, NEW.state, 1)
        ON CONFLICT (kind, workspace, state) DO UPDATE SET n = n + 1;
    UPDATE state_counts SET n = n - 1
     WHERE kind = 'unverified' AND workspace = OLD.workspace AND state = 'done'
       AND OLD.state = 'done' AND OLD.verified = 0;
    INSERT INTO state_counts (kind, workspace, state, n)
    SELECT 'unverified', NEW.workspace, 'done', 1 WHERE NEW.state = 'done' AND NEW.verified = 0
        ON CONFLICT (kind, workspace, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER erasures_count_delete AFTER DELETE ON erasures
BEGIN
    UPDATE state_counts SET n = n - 1
     WHERE kind = 'erasure' AND workspace = OLD.workspace AND state = OLD.state;
    UPDATE state_counts SET n = n - 1
     WHERE kind = 'unverified' AND workspace = OLD.workspace AND state = 'done'
       AND OLD.state = 'done' AND OLD.verified = 0;
END;

-- The worker's call entries, so that the first scrape after a start reads those only, not the
-- whole log (store::tally_calls).
CREATE INDEX audit_calls ON audit_log (seq) WHERE event IN ('call.suppress', 'call.destroy');
