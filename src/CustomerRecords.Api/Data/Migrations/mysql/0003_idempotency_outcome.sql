-- unless column exists: idempotency_keys.outcome
-- An Idempotency-Key's answer is the feature's own outcome name ('created', 'duplicate-email'),
-- no longer an HTTP status code. status_code stays for rows written by instances older than this
-- migration; such rows are never taken over (see IdempotencyStore), and expire with their key.
-- MySQL has no ADD COLUMN IF NOT EXISTS: the guard line above makes a re-run skip the script.
ALTER TABLE idempotency_keys ADD COLUMN outcome VARCHAR(32) NULL;
