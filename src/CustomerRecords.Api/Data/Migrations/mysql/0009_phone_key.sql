-- unless column exists: customers.phone_key
-- Phone search: phone_key is the phone's digits (NULL without a phone). The API accepts only digits, spaces
-- and + - ( ) . in a phone (CustomerRules.NormalizePhone), so removing those five leaves exactly the digits;
-- a stored generated column keeps it right on every write path (API, import, erasure) with no app code.
-- (phone_key, id) serves the digits-prefix range; the row's state is checked on the rows the range finds.
-- One ALTER TABLE: it applies whole or not at all, and the guard above makes a re-run skip it.
ALTER TABLE customers
    ADD COLUMN phone_key VARCHAR(20) GENERATED ALWAYS AS (
        REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(phone, ' ', ''), '+', ''), '-', ''), '(', ''), ')', ''), '.', '')) STORED,
    ADD KEY ix_customers_phone_key (phone_key, id);
