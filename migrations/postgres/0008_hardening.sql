-- Hardening after a security review (issue 10).

-- Hosts (besides the registry's own) whose https token realm may receive its credentials.
ALTER TABLE registries ADD COLUMN auth_hosts TEXT NOT NULL DEFAULT '';
-- A cluster API server over plain http to a non-loopback host needs this explicit mark.
ALTER TABLE clusters ADD COLUMN insecure BOOLEAN NOT NULL DEFAULT FALSE;
-- Least privilege: the clusters and registries an ingest token may post for (newline separated).
ALTER TABLE api_tokens ADD COLUMN clusters TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN registries TEXT NOT NULL DEFAULT '';
-- A report dated more than a day after Drydock received it.
ALTER TABLE scans ADD COLUMN future_dated BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX scans_received ON scans (image_id, scanner, received_at);
-- Whose session this is (NULL before sign-in), so an admin can end a person's sessions.
ALTER TABLE sessions ADD COLUMN subject TEXT;
CREATE INDEX sessions_subject ON sessions (subject);
-- Forensics finds an image's entries by subject, not by scanning payloads.
CREATE INDEX audit_events_subject ON audit_events (subject);

-- The ledger's perfect subtree hashes (level >= 1; level 0 is each entry's leaf_hash), written as
-- entries are appended: a checkpoint or a proof reads O(log n) of them, never every leaf.
CREATE TABLE ledger_nodes (
    level BIGINT NOT NULL,
    idx   BIGINT NOT NULL,
    hash  TEXT NOT NULL,
    PRIMARY KEY (level, idx)
);
-- Subjects an entry mentions besides its own (image digests in its payload), so forensics finds
-- an image's entries through this index instead of scanning payloads.
CREATE TABLE audit_mentions (
    subject      TEXT NOT NULL,
    ledger_index BIGINT NOT NULL,
    PRIMARY KEY (subject, ledger_index)
);
-- The scheduled verification's last result (the ledger page shows it; no reader triggers one).
CREATE TABLE ledger_verification (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    ran_at              TIMESTAMPTZ NOT NULL,
    size                BIGINT NOT NULL,
    root                TEXT NOT NULL,
    checkpoints_checked BIGINT NOT NULL,
    problem             TEXT
);
