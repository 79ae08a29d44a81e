-- Ava's core schema. One file for SQLite and PostgreSQL: ids are TEXT (UUIDv7), times are
-- BIGINT milliseconds since the Unix epoch, flags are INTEGER 0/1, bytes are BYTEA (a BLOB
-- in SQLite). Every query of the host runs unchanged on both.

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,       -- normalized: trimmed, lowercase
    password_hash   TEXT NOT NULL,              -- argon2id, PHC string
    display_name    TEXT,
    created_at      BIGINT NOT NULL
);

-- Opaque bearer tokens; only their SHA-256 is stored.
CREATE TABLE sessions (
    token_hash      TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE personas (
    id                          TEXT PRIMARY KEY,
    user_id                     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name                        TEXT NOT NULL,
    style                       TEXT NOT NULL,
    description                 TEXT NOT NULL,
    personality                 TEXT NOT NULL,
    scenario                    TEXT NOT NULL,
    greeting                    TEXT NOT NULL,
    example_dialogue            TEXT NOT NULL,
    system_prompt               TEXT NOT NULL,
    post_history_instructions   TEXT NOT NULL,
    appearance                  TEXT NOT NULL,
    alternate_greetings         TEXT NOT NULL,  -- JSON array of strings
    tags                        TEXT NOT NULL,  -- JSON array of strings
    creator                     TEXT NOT NULL,
    creator_notes               TEXT NOT NULL,
    photo_seed                  BIGINT NOT NULL, -- keeps the persona's look across photos
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL
);
CREATE INDEX personas_user ON personas(user_id, created_at);

CREATE TABLE preferences (
    user_id             TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    mode                TEXT NOT NULL CHECK (mode IN ('secretary', 'intimate')),
    active_persona_id   TEXT REFERENCES personas(id) ON DELETE SET NULL,
    photos_enabled      INTEGER NOT NULL,
    adult_confirmed_at  BIGINT,                 -- when the user confirmed being 18 or older
    updated_at          BIGINT NOT NULL
);

-- One conversation per (user, persona), ordered by `seq`.
CREATE TABLE messages (
    id                  TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    persona_id          TEXT NOT NULL REFERENCES personas(id) ON DELETE CASCADE,
    seq                 BIGINT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content             TEXT NOT NULL,
    mode                TEXT NOT NULL,
    photo_prompt        TEXT,                   -- the photo the persona decided to send
    photo_caption       TEXT,
    photo_id            TEXT,
    created_at          BIGINT NOT NULL,
    UNIQUE (user_id, persona_id, seq)
);

-- The rolling memory of a conversation: a summary of every message up to `through_seq`.
CREATE TABLE memories (
    user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    persona_id          TEXT NOT NULL REFERENCES personas(id) ON DELETE CASCADE,
    summary             TEXT NOT NULL,
    through_seq         BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    PRIMARY KEY (user_id, persona_id)
);

CREATE TABLE photos (
    id                  TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    persona_id          TEXT NOT NULL REFERENCES personas(id) ON DELETE CASCADE,
    message_id          TEXT,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
    prompt              TEXT NOT NULL,
    negative_prompt     TEXT,
    caption             TEXT,
    seed                BIGINT NOT NULL,
    width               INTEGER NOT NULL,
    height              INTEGER NOT NULL,
    content_type        TEXT,
    byte_size           BIGINT,
    storage_key         TEXT,
    provider            TEXT,
    model               TEXT,
    failure_reason      TEXT,
    job_id              TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX photos_user ON photos(user_id, created_at);

-- One row per user; status follows Stripe's vocabulary ('none' before any checkout).
CREATE TABLE subscriptions (
    user_id                 TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    provider                TEXT NOT NULL,
    customer_id             TEXT,
    subscription_id         TEXT,
    status                  TEXT NOT NULL,
    current_period_end      BIGINT,
    cancel_at_period_end    INTEGER NOT NULL,
    price_id                TEXT,
    -- Creation time of the newest provider event applied: older events change nothing.
    state_as_of             BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX subscriptions_customer ON subscriptions(provider, customer_id);
CREATE INDEX subscriptions_subscription ON subscriptions(provider, subscription_id);

-- Webhook idempotency: an event id is recorded in the same transaction as its effect.
CREATE TABLE billing_events (
    provider            TEXT NOT NULL,
    event_id            TEXT NOT NULL,
    event_type          TEXT NOT NULL,
    user_id             TEXT,
    created_at          BIGINT NOT NULL,
    received_at         BIGINT NOT NULL,
    outcome             TEXT NOT NULL,
    PRIMARY KEY (provider, event_id)
);

-- Plugin key-value storage, scoped by plugin name.
CREATE TABLE plugin_kv (
    plugin              TEXT NOT NULL,
    key                 TEXT NOT NULL,
    value               BYTEA NOT NULL,
    expires_at          BIGINT,
    PRIMARY KEY (plugin, key)
);
