-- unless column exists: customers.phone_key
-- Phone search: the phone's digits (see the MySQL script). SQLite can add a generated column only as
-- VIRTUAL; the index stores its values, so a search reads the index, not the expression.
ALTER TABLE customers ADD COLUMN phone_key TEXT GENERATED ALWAYS AS (
    REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(phone, ' ', ''), '+', ''), '-', ''), '(', ''), ')', ''), '.', '')) VIRTUAL;
CREATE INDEX ix_customers_phone_key ON customers (phone_key, id);
