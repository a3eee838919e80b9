-- The estate core: teams and ownership, repositories and images by digest, scans, findings,
-- API tokens and the audit events every state change appends (same transaction).
-- Times are UTC, stored as RFC 3339 text (PostgreSQL: timestamptz).

CREATE TABLE teams (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE TABLE ownership_rules (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('repository_prefix', 'namespace', 'label')),
    pattern    TEXT NOT NULL,
    team_id    INTEGER NOT NULL REFERENCES teams (id),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (kind, pattern)
);

CREATE TABLE repositories (
    id         INTEGER PRIMARY KEY,
    registry   TEXT NOT NULL,
    name       TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    UNIQUE (registry, name)
);

CREATE TABLE images (
    id            INTEGER PRIMARY KEY,
    digest        TEXT NOT NULL UNIQUE,
    os            TEXT,
    architecture  TEXT,
    created       TEXT,
    team_id       INTEGER REFERENCES teams (id),
    owner_rule_id INTEGER REFERENCES ownership_rules (id),
    first_seen    TEXT NOT NULL,
    last_scanned  TEXT
);
CREATE INDEX images_team ON images (team_id);

CREATE TABLE image_aliases (
    digest   TEXT PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images (id),
    kind     TEXT NOT NULL CHECK (kind IN ('repo', 'platform', 'index', 'config'))
);
CREATE INDEX image_aliases_image ON image_aliases (image_id);

CREATE TABLE image_repositories (
    image_id      INTEGER NOT NULL REFERENCES images (id),
    repository_id INTEGER NOT NULL REFERENCES repositories (id),
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    PRIMARY KEY (image_id, repository_id)
);
CREATE INDEX image_repositories_repo ON image_repositories (repository_id);

CREATE TABLE tags (
    repository_id INTEGER NOT NULL REFERENCES repositories (id),
    tag           TEXT NOT NULL,
    image_id      INTEGER NOT NULL REFERENCES images (id),
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (repository_id, tag)
);
CREATE INDEX tags_image ON tags (image_id);

CREATE TABLE vulnerabilities (
    id          TEXT PRIMARY KEY,
    severity    TEXT NOT NULL,
    title       TEXT,
    primary_url TEXT,
    cvss_score  DOUBLE PRECISION,
    published   TEXT,
    updated_at  TEXT NOT NULL
);

CREATE TABLE packages (
    id       INTEGER PRIMARY KEY,
    pkg_type TEXT NOT NULL,
    name     TEXT NOT NULL,
    version  TEXT NOT NULL,
    purl     TEXT,
    UNIQUE (pkg_type, name, version)
);

CREATE TABLE image_packages (
    image_id   INTEGER NOT NULL REFERENCES images (id),
    package_id INTEGER NOT NULL REFERENCES packages (id),
    path       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (image_id, package_id, path)
);
CREATE INDEX image_packages_package ON image_packages (package_id);

CREATE TABLE scans (
    id            INTEGER PRIMARY KEY,
    report_sha256 TEXT NOT NULL UNIQUE,
    scanner       TEXT NOT NULL,
    format        TEXT NOT NULL,
    artifact      TEXT NOT NULL,
    image_id      INTEGER REFERENCES images (id),
    unmatched     BOOLEAN NOT NULL,
    scanned_at    TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    received_by   TEXT NOT NULL,
    n_critical    BIGINT NOT NULL,
    n_high        BIGINT NOT NULL,
    n_medium      BIGINT NOT NULL,
    n_low         BIGINT NOT NULL,
    n_negligible  BIGINT NOT NULL,
    n_unknown     BIGINT NOT NULL
);
CREATE INDEX scans_image ON scans (image_id, scanner, scanned_at);

-- What each report said, kept as evidence (the current state lives in findings).
CREATE TABLE scan_findings (
    scan_id           INTEGER NOT NULL REFERENCES scans (id),
    vulnerability_id  TEXT NOT NULL,
    package_name      TEXT NOT NULL,
    installed_version TEXT NOT NULL,
    package_path      TEXT NOT NULL,
    severity          TEXT NOT NULL,
    fixed_version     TEXT,
    PRIMARY KEY (scan_id, vulnerability_id, package_name, installed_version, package_path)
);

-- Current findings per image and scanner, merged by identity across rescans.
CREATE TABLE findings (
    id                INTEGER PRIMARY KEY,
    image_id          INTEGER NOT NULL REFERENCES images (id),
    scanner           TEXT NOT NULL,
    vulnerability_id  TEXT NOT NULL REFERENCES vulnerabilities (id),
    package_name      TEXT NOT NULL,
    installed_version TEXT NOT NULL,
    package_path      TEXT NOT NULL,
    package_type      TEXT NOT NULL,
    purl              TEXT,
    severity          TEXT NOT NULL,
    fixed_version     TEXT,
    first_seen        TEXT NOT NULL,
    last_seen         TEXT NOT NULL,
    resolved_at       TEXT,
    last_scan_id      INTEGER NOT NULL REFERENCES scans (id),
    UNIQUE (image_id, scanner, vulnerability_id, package_name, installed_version, package_path)
);
CREATE INDEX findings_open ON findings (image_id, severity) WHERE resolved_at IS NULL;
CREATE INDEX findings_vulnerability ON findings (vulnerability_id);
CREATE INDEX findings_package ON findings (package_name);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('ingest', 'viewer', 'developer', 'manager', 'security', 'admin')),
    team_id      INTEGER REFERENCES teams (id),
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);

-- Appended by the one function every state change goes through, in the change's transaction.
CREATE TABLE audit_events (
    id      INTEGER PRIMARY KEY,
    time    TEXT NOT NULL,
    actor   TEXT NOT NULL,
    kind    TEXT NOT NULL,
    subject TEXT NOT NULL,
    payload TEXT NOT NULL
);
