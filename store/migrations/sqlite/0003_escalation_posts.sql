-- Posting an escalation's staff card when several instances share the
-- database: an instance records its attempt (post_attempted_by, at, Unix
-- nanoseconds) before it posts, and only while no attempt is recorded.
-- An attempt that surely failed is cleared (the card may be posted again);
-- one that may have reached Teams, or whose card ids were not saved, stays,
-- so the card is not posted twice.
ALTER TABLE escalations ADD COLUMN post_attempted_by TEXT NOT NULL DEFAULT '';
ALTER TABLE escalations ADD COLUMN post_attempted_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX escalations_card_pending ON escalations (id) WHERE staff_activity_id = '' AND post_attempted_at = 0 AND status <> 'resolved';
