-- unless column exists: customers.deleted_at
-- Soft delete and live-only email uniqueness (see the MySQL script). The email's UNIQUE constraint is
-- part of the table definition in SQLite, so the table is rebuilt (inside the migration's transaction).
-- The AUTOINCREMENT high-water mark is carried over: ids of rows deleted before the upgrade stay unused.
CREATE TABLE customers_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    version INTEGER NOT NULL DEFAULT 1,
    email_key TEXT NOT NULL,
    name_key TEXT NOT NULL,
    deleted_at TEXT NULL
);
INSERT INTO customers_rebuilt (id, name, email, phone, created_at, updated_at, version, email_key, name_key)
SELECT id, name, email, phone, created_at, updated_at, version, email_key, name_key FROM customers;
INSERT INTO sqlite_sequence (name, seq) SELECT 'customers_rebuilt', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'customers_rebuilt');
UPDATE sqlite_sequence
SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'customers'), 0))
WHERE name = 'customers_rebuilt';
DROP TABLE customers;
ALTER TABLE customers_rebuilt RENAME TO customers;
CREATE UNIQUE INDEX ux_customers_live_email ON customers (email_key) WHERE deleted_at IS NULL;
CREATE INDEX ix_customers_email_key ON customers (email_key);
CREATE INDEX ix_customers_name_key ON customers (name_key, id);
CREATE INDEX ix_customers_created_at ON customers (created_at, id);
CREATE INDEX ix_customers_updated_at ON customers (updated_at, id);
CREATE INDEX ix_customers_deleted_at ON customers (deleted_at, id);
