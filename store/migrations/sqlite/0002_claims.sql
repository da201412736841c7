-- Leases for several instances on one database: an inbox entry or a timer
-- is processed by the instance named in claimed_by until claimed_until
-- (Unix nanoseconds); after that another instance may take it over.
ALTER TABLE inbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE inbox ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;
CREATE INDEX inbox_conversation_pending ON inbox (conversation_id, seq) WHERE status = 'pending';

ALTER TABLE timers ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE timers ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;

-- The reference's service URL as a column: the server only runs timers of
-- conversations it can message (the terminal chat runs its own).
ALTER TABLE conversations ADD COLUMN service_url TEXT NOT NULL DEFAULT '';
UPDATE conversations SET service_url = COALESCE(json_extract(ref, '$.serviceUrl'), '')
    WHERE ref <> '' AND json_valid(ref);
