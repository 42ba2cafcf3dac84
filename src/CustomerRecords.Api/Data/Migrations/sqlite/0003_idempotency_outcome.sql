-- unless column exists: idempotency_keys.outcome
-- An Idempotency-Key's answer is the feature's own outcome name (see the MySQL script).
ALTER TABLE idempotency_keys ADD COLUMN outcome TEXT NULL;
