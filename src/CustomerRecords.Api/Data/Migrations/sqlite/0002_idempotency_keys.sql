-- Idempotency-Key records for creates (see the MySQL script).
CREATE TABLE IF NOT EXISTS idempotency_keys (
    idempotency_key TEXT NOT NULL PRIMARY KEY,
    request_hash TEXT NOT NULL,
    owner TEXT NOT NULL,
    created_at TEXT NOT NULL,
    locked_until TEXT NOT NULL,
    status_code INTEGER NULL,
    response_body TEXT NULL
);
CREATE INDEX IF NOT EXISTS ix_idempotency_keys_created_at ON idempotency_keys (created_at);
