-- unless column exists: idempotency_keys.customer_id
-- The customer a create's key answered with, so that erasing the customer can scrub the stored answer.
ALTER TABLE idempotency_keys
    ADD COLUMN customer_id INT NULL,
    ADD KEY ix_idempotency_keys_customer (customer_id);
