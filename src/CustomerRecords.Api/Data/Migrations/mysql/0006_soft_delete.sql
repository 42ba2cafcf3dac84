-- unless column exists: customers.deleted_at
-- Soft delete: a deleted row keeps its id and values until it is restored or purged. Email uniqueness
-- holds among live rows only: live_email_key is the email key while the row is live and NULL once it is
-- deleted (a unique index allows many NULLs), so a new customer may take a deleted customer's email.
-- email_key keeps a plain index for email lookups and prefix search; updated_at gets the (key, id)
-- index of updated_since pages, deleted_at the one of the deleted listing.
-- One ALTER TABLE: it applies whole or not at all, and the guard above makes a re-run skip it.
ALTER TABLE customers
    ADD COLUMN deleted_at DATETIME(6) NULL,
    ADD COLUMN live_email_key VARCHAR(255) GENERATED ALWAYS AS (CASE WHEN deleted_at IS NULL THEN email_key END) STORED,
    DROP INDEX ux_customers_email,
    DROP INDEX ux_customers_email_key,
    ADD UNIQUE KEY ux_customers_live_email (live_email_key),
    ADD KEY ix_customers_email_key (email_key),
    ADD KEY ix_customers_updated_at (updated_at, id),
    ADD KEY ix_customers_deleted_at (deleted_at, id);
