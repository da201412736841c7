-- The outbox: what handoff still has to send after a staff action (the
-- staff card update, the message to the student). A row is written in the
-- same transaction as the escalation change and deleted once sent, so a
-- crash loses nothing. An instance leases a row (claimed_by until
-- claimed_until, Unix nanoseconds) while it sends; due is when it may be
-- sent (later after a failure); attempts counts the hand-outs.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    escalation_id INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    payload       BLOB,
    created_at    INTEGER NOT NULL,
    due           INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    claimed_by    TEXT    NOT NULL DEFAULT '',
    claimed_until INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_escalation ON outbox (escalation_id, id);
CREATE INDEX outbox_due ON outbox (due, id);
