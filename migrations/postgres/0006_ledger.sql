-- The audit ledger: each audit event is an entry of an RFC 6962 Merkle log. `entry` holds the
-- canonical entry bytes, `leaf_hash` SHA-256(0x00 || entry) in hex. Events written before this
-- migration are carried into the log (in id order) by Drydock the first time it opens the store.
ALTER TABLE audit_events ADD COLUMN ledger_index BIGINT;
ALTER TABLE audit_events ADD COLUMN entry TEXT;
ALTER TABLE audit_events ADD COLUMN leaf_hash TEXT;
CREATE UNIQUE INDEX audit_events_ledger ON audit_events (ledger_index);

-- The log's size; appending takes this row's lock, so indexes are dense and ordered.
CREATE TABLE ledger_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL
);
INSERT INTO ledger_head (id, size) VALUES (1, 0);

CREATE TABLE ledger_checkpoints (
    size       BIGINT PRIMARY KEY,
    root       TEXT NOT NULL,
    note       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
