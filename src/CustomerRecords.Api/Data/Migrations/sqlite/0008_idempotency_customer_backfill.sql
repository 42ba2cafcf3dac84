-- Keys answered before migration 7 name their customer in the stored body. Re-runnable.
UPDATE idempotency_keys
SET customer_id = CAST(json_extract(response_body, '$.id') AS INTEGER)
WHERE customer_id IS NULL AND response_body IS NOT NULL AND json_valid(response_body);
