-- Times are Unix nanoseconds (UTC) in both dialects.
CREATE TABLE inbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id     TEXT    NOT NULL UNIQUE,
    conversation_id TEXT    NOT NULL,
    body            BLOB,
    received_at     INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    status          TEXT    NOT NULL DEFAULT 'pending',
    last_error      TEXT    NOT NULL DEFAULT '',
    finished_at     INTEGER
);
CREATE INDEX inbox_status_seq ON inbox (status, seq);

CREATE TABLE conversations (
    id         TEXT PRIMARY KEY,
    ref        TEXT    NOT NULL DEFAULT '',
    state      BLOB,
    version    INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE INDEX conversations_updated ON conversations (updated_at);

CREATE TABLE timers (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT    NOT NULL,
    due             INTEGER NOT NULL,
    payload         BLOB
);
CREATE INDEX timers_due ON timers (due, id);
CREATE INDEX timers_conversation ON timers (conversation_id);

CREATE TABLE sessions (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT    NOT NULL,
    user_id          TEXT    NOT NULL DEFAULT '',
    situation        TEXT    NOT NULL DEFAULT '',
    outcome          TEXT    NOT NULL DEFAULT '',
    satisfaction     INTEGER NOT NULL DEFAULT 0,
    started_at       INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL,
    ended_at         INTEGER
);
CREATE INDEX sessions_running ON sessions (last_activity_at) WHERE ended_at IS NULL;
CREATE INDEX sessions_conversation ON sessions (conversation_id, started_at);
CREATE INDEX sessions_ended ON sessions (ended_at);
CREATE INDEX sessions_started ON sessions (started_at);

CREATE TABLE step_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    session_key     TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    user_id         TEXT    NOT NULL DEFAULT '',
    situation       TEXT    NOT NULL DEFAULT '',
    step            TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    at              INTEGER NOT NULL
);
CREATE INDEX step_events_at ON step_events (at);

CREATE TABLE transcripts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT    NOT NULL,
    role            TEXT    NOT NULL,
    text            TEXT    NOT NULL,
    at              INTEGER NOT NULL
);
CREATE INDEX transcripts_conversation ON transcripts (conversation_id, at, id);
CREATE INDEX transcripts_at ON transcripts (at);

CREATE TABLE escalations (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id   TEXT    NOT NULL,
    session_id        TEXT    NOT NULL DEFAULT '',
    student_name      TEXT    NOT NULL DEFAULT '',
    student_upn       TEXT    NOT NULL DEFAULT '',
    student_object_id TEXT    NOT NULL DEFAULT '',
    situation         TEXT    NOT NULL DEFAULT '',
    failed_step       TEXT    NOT NULL DEFAULT '',
    reason            TEXT    NOT NULL DEFAULT '',
    security          INTEGER NOT NULL DEFAULT 0,
    repeat_contact    INTEGER NOT NULL DEFAULT 0,
    methods           TEXT    NOT NULL DEFAULT '[]',
    language          TEXT    NOT NULL DEFAULT '',
    transcript        TEXT    NOT NULL DEFAULT '[]',
    status            TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    claimed_by        TEXT    NOT NULL DEFAULT '',
    claimed_at        INTEGER,
    resolved_by       TEXT    NOT NULL DEFAULT '',
    resolved_at       INTEGER,
    first_response_at INTEGER,
    resolution_note   TEXT    NOT NULL DEFAULT '',
    staff_activity_id TEXT    NOT NULL DEFAULT '',
    staff_thread_id   TEXT    NOT NULL DEFAULT '',
    version           INTEGER NOT NULL DEFAULT 1
);
-- At most one escalation per conversation is not resolved.
CREATE UNIQUE INDEX escalations_one_open ON escalations (conversation_id)
    WHERE status <> 'resolved' AND conversation_id <> '';
CREATE INDEX escalations_queue ON escalations (security, created_at);
CREATE INDEX escalations_student ON escalations (student_object_id, created_at);
CREATE INDEX escalations_status ON escalations (status);

CREATE TABLE audit (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    escalation_id INTEGER NOT NULL DEFAULT 0,
    detail        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_escalation ON audit (escalation_id, at);
