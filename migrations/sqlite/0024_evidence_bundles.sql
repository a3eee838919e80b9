-- Issue 25: evidence for auditors. A read-only `auditor` role for people and tokens (SQLite
-- cannot alter a CHECK constraint: both tables are rebuilt, their rows and ids kept).
CREATE TABLE api_tokens_new (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('ingest', 'admission', 'viewer', 'auditor', 'developer', 'manager', 'security', 'admin')),
    team_id      INTEGER REFERENCES teams (id),
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT,
    clusters     TEXT NOT NULL DEFAULT '',
    registries   TEXT NOT NULL DEFAULT ''
);
INSERT INTO api_tokens_new (id, name, role, team_id, token_sha256, created_at, created_by, last_used_at, revoked_at, clusters, registries)
    SELECT id, name, role, team_id, token_sha256, created_at, created_by, last_used_at, revoked_at, clusters, registries FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;

CREATE TABLE role_mappings_new (
    id         INTEGER PRIMARY KEY,
    idp_group  TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'auditor', 'developer', 'manager', 'security', 'admin')),
    team_id    INTEGER REFERENCES teams (id),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
INSERT INTO role_mappings_new (id, idp_group, role, team_id, created_at, created_by)
    SELECT id, idp_group, role, team_id, created_at, created_by FROM role_mappings;
DROP TABLE role_mappings;
ALTER TABLE role_mappings_new RENAME TO role_mappings;
CREATE UNIQUE INDEX role_mappings_unique ON role_mappings (idp_group, role, COALESCE(team_id, 0));

-- The content of each day's scorecard snapshot as it was hashed into its ledger entry
-- (`scorecard.snapshot`): canonical JSON of the scores, the failing subjects and the policies in
-- force. Taken again the same day, it is replaced; the ledger keeps every entry.
CREATE TABLE scorecard_documents (
    day         TEXT PRIMARY KEY,
    sha256      TEXT NOT NULL,
    document    TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);

-- Evidence picks ledger entries by what they record (their kind), up to a time.
CREATE INDEX audit_events_kind ON audit_events (kind, time);
