-- Service-desk account actions (staff.actions): each confirmation form
-- carries a one-time key, claimed here before Graph is called, so that a
-- double click or a resent form (on any instance) acts once. No personal
-- data: the key is random, the action a verb.
CREATE TABLE action_keys (
    action_key    TEXT    PRIMARY KEY,
    escalation_id BIGINT  NOT NULL,
    action        TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX action_keys_created ON action_keys (created_at);
