-- Customers, as the original schema plus: a row version for ETags and optimistic concurrency,
-- and lower-cased keys so that email uniqueness, name ordering and prefix search mean the same on
-- every engine whatever its default collation. Timestamps are DATETIME(6) holding UTC written by the
-- service: no session time-zone conversion (TIMESTAMP converts) and no 2038 limit.
CREATE TABLE IF NOT EXISTS customers (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    email VARCHAR(255) NOT NULL,
    phone VARCHAR(20) NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    version INT NOT NULL DEFAULT 1,
    email_key VARCHAR(255) NOT NULL,
    name_key VARCHAR(255) NOT NULL,
    UNIQUE KEY ux_customers_email (email),
    UNIQUE KEY ux_customers_email_key (email_key),
    KEY ix_customers_name_key (name_key, id),
    KEY ix_customers_created_at (created_at, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
