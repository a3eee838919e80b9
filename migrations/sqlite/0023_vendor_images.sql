-- Issue 24: the register of vendor images (one document, replaced whole by security, each change a
-- ledger entry with the register before and after).
CREATE TABLE vendor_register (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    entries    TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
