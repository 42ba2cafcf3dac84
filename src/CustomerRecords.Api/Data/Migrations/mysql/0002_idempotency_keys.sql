-- Idempotency-Key records for creates: a retried request with the same key gets the first answer.
-- owner/locked_until mark a request in flight; status_code is set in the same transaction as the
-- customer insert, so "completed" and "customer exists" can never disagree.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    idempotency_key VARCHAR(300) NOT NULL PRIMARY KEY,
    request_hash CHAR(64) NOT NULL,
    owner CHAR(32) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    locked_until DATETIME(6) NOT NULL,
    status_code INT NULL,
    response_body MEDIUMTEXT NULL,
    KEY ix_idempotency_keys_created_at (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
