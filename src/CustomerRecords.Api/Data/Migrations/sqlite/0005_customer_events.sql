-- The history of every change to a customer (see the MySQL script).
CREATE TABLE IF NOT EXISTS customer_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    position INTEGER NULL,
    customer_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    trace_id TEXT NULL,
    version INTEGER NOT NULL,
    fields TEXT NOT NULL DEFAULT '',
    changes TEXT NULL,
    erased_at TEXT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_customer_events_position ON customer_events (position);
CREATE INDEX IF NOT EXISTS ix_customer_events_customer ON customer_events (customer_id, seq);
CREATE INDEX IF NOT EXISTS ix_customer_events_occurred_at ON customer_events (occurred_at);
CREATE TABLE IF NOT EXISTS feed_state (
    id INTEGER NOT NULL PRIMARY KEY,
    last_position INTEGER NOT NULL
);
INSERT OR IGNORE INTO feed_state (id, last_position) VALUES (1, 0);
