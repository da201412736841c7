-- Grounded answers the bot sent (the language model's words, sent with
-- Teams' AI label, citations and feedback buttons), and the student's
-- like or dislike on each (the message/submitAction invoke). activity_id
-- is the Connector's id of the sent message: the invoke's replyToId. The
-- feedback text is redacted by the bot before it is stored; Purge clears
-- it with the transcripts and deletes the rows with the sessions.
CREATE TABLE answers (
    conversation_id TEXT    NOT NULL,
    activity_id     TEXT    NOT NULL,
    step            TEXT    NOT NULL DEFAULT '',
    sent_at         INTEGER NOT NULL,
    reaction        TEXT    NOT NULL DEFAULT '',
    feedback        TEXT    NOT NULL DEFAULT '',
    feedback_at     INTEGER,
    PRIMARY KEY (conversation_id, activity_id)
);
CREATE INDEX answers_sent ON answers (sent_at);
