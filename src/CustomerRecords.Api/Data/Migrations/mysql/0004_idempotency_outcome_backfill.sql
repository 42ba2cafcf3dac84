-- Answers recorded before migration 3, in the outcome names the service reads now. Re-runnable.
UPDATE idempotency_keys
SET outcome = CASE status_code WHEN 201 THEN 'created' WHEN 409 THEN 'duplicate-email' END
WHERE outcome IS NULL AND status_code IS NOT NULL;
