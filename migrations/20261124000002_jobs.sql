-- The embedded job queue. With Redis it is the outbox instead: a chat turn writes its jobs
-- here in the same transaction as its messages and photos, and a relay moves them to the
-- Redis stream, so a job is never lost between the database and the queue.
CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,           -- stable across retries: effects are idempotent by it
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,              -- JSON, shaped by the kind
    max_attempts    INTEGER NOT NULL,
    enqueued_at     BIGINT NOT NULL,
    attempts        INTEGER NOT NULL,           -- deliveries so far, reclaims included
    -- Waiting: not before this time. Leased: when the lease runs out and the job may be
    -- claimed again (its worker is presumed dead). One column makes "claimable" one range.
    run_at          BIGINT NOT NULL,
    lease           TEXT,                       -- the current delivery's receipt; NULL while waiting
    dead_at         BIGINT,                     -- given up: listed by `ava jobs dead`
    last_error      TEXT
);
CREATE INDEX jobs_due ON jobs(run_at) WHERE dead_at IS NULL;
CREATE INDEX jobs_dead ON jobs(dead_at) WHERE dead_at IS NOT NULL;

-- The photos list pages by id (UUIDv7, so creation order).
CREATE INDEX photos_user_id ON photos(user_id, id);
