-- Issue 24: the admission webhook. Its callers hold tokens of a new role, `admission`
-- (SQLite cannot alter a CHECK constraint: the token table is rebuilt, its rows and ids kept).
CREATE TABLE api_tokens_new (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('ingest', 'admission', 'viewer', 'developer', 'manager', 'security', 'admin')),
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

-- What security set for admission (one row; absent: the defaults).
CREATE TABLE admission_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    settings   TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

-- The webhook reads an image's outstanding items and failing results by the image.
CREATE INDEX campaign_items_image ON campaign_items (image_id, state);
CREATE INDEX policy_results_subject ON policy_results (subject_kind, subject);
