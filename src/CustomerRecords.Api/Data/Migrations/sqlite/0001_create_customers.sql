-- Customers, as the original schema plus a row version and lower-cased keys (see the MySQL script).
-- AUTOINCREMENT: ids are never reused, so an ETag or cached entry can't match a later row.
CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    phone TEXT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    version INTEGER NOT NULL DEFAULT 1,
    email_key TEXT NOT NULL,
    name_key TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_customers_email_key ON customers (email_key);
CREATE INDEX IF NOT EXISTS ix_customers_name_key ON customers (name_key, id);
CREATE INDEX IF NOT EXISTS ix_customers_created_at ON customers (created_at, id);
