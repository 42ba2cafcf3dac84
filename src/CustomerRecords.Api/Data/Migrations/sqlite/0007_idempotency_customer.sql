-- unless column exists: idempotency_keys.customer_id
-- The customer a create's key answered with (see the MySQL script).
ALTER TABLE idempotency_keys ADD COLUMN customer_id INTEGER NULL;
CREATE INDEX IF NOT EXISTS ix_idempotency_keys_customer ON idempotency_keys (customer_id);
