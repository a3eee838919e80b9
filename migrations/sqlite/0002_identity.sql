-- Sign-in: sessions (tower-sessions records), the people who signed in, and the mapping from
-- identity-provider groups to roles and teams that admins edit (config-file mappings are not stored).

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    subject    TEXT NOT NULL UNIQUE,
    login      TEXT,
    name       TEXT,
    email      TEXT,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL
);

CREATE TABLE role_mappings (
    id         INTEGER PRIMARY KEY,
    idp_group  TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'developer', 'manager', 'security', 'admin')),
    team_id    INTEGER REFERENCES teams (id),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE UNIQUE INDEX role_mappings_unique ON role_mappings (idp_group, role, COALESCE(team_id, 0));
