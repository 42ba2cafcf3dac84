-- The history of every change to a customer, appended in the same transaction as the change.
-- seq is the append order (AUTO_INCREMENT, which concurrent transactions can commit out of order);
-- position is the change feed's order, given after commit by one sequencer at a time (feed_state's
-- row lock), so a follower reading position > cursor never misses an event that commits late.
-- fields names what changed; changes holds {"field": {"before": ..., "after": ...}} as JSON and is
-- set to NULL when the customer is erased: the event's skeleton stays, its values go.
CREATE TABLE IF NOT EXISTS customer_events (
    seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    position BIGINT NULL,
    customer_id INT NOT NULL,
    kind VARCHAR(16) NOT NULL,
    occurred_at DATETIME(6) NOT NULL,
    actor VARCHAR(300) NOT NULL,
    trace_id CHAR(32) NULL,
    version INT NOT NULL,
    fields VARCHAR(64) NOT NULL DEFAULT '',
    changes MEDIUMTEXT NULL,
    erased_at DATETIME(6) NULL,
    UNIQUE KEY ux_customer_events_position (position),
    KEY ix_customer_events_customer (customer_id, seq),
    KEY ix_customer_events_occurred_at (occurred_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE IF NOT EXISTS feed_state (
    id INT NOT NULL PRIMARY KEY,
    last_position BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
INSERT IGNORE INTO feed_state (id, last_position) VALUES (1, 0);
