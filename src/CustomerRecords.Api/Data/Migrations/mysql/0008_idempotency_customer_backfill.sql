-- Keys answered before migration 7 name their customer in the stored body. Re-runnable.
UPDATE idempotency_keys
SET customer_id = CAST(JSON_VALUE(response_body, '$.id') AS SIGNED)
WHERE customer_id IS NULL AND response_body IS NOT NULL AND JSON_VALID(response_body);
