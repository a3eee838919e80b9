-- Issue 21: one number that every change to the estate moves, in the change's own transaction.
-- Pages rendered for a data version may be kept and served again while it stands (each replica
-- keeps its own; the number lives here, so a change on one replica is seen by all at once).
CREATE TABLE data_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 0);
