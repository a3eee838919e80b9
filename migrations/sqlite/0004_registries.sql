-- Registries and what the collector reads from them: each image's manifest kind, platform,
-- config (labels, user, base image, layers) and signature; indexes and their platform manifests;
-- who pushed what (from the registry's notifications).

CREATE TABLE registries (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    url            TEXT NOT NULL,
    -- Credentials: a user name and the NAME of the environment variable holding the password or
    -- token; the secret itself is never stored.
    username       TEXT,
    password_env   TEXT,
    ca_pem         TEXT,
    insecure       BOOLEAN NOT NULL DEFAULT FALSE,
    approved       BOOLEAN NOT NULL DEFAULT FALSE,
    -- Repositories to read where the registry offers no catalog (newline separated).
    repositories   TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    last_attempt   TEXT,
    last_success   TEXT,
    last_error     TEXT,
    failures       INTEGER NOT NULL DEFAULT 0,
    next_attempt   TEXT,
    n_repositories INTEGER NOT NULL DEFAULT 0,
    n_tags         INTEGER NOT NULL DEFAULT 0,
    n_manifests    INTEGER NOT NULL DEFAULT 0
);

ALTER TABLE repositories ADD COLUMN registry_id INTEGER REFERENCES registries (id);
ALTER TABLE repositories ADD COLUMN collected_at TEXT;


ALTER TABLE images ADD COLUMN media_type TEXT;
ALTER TABLE images ADD COLUMN is_index BOOLEAN NOT NULL DEFAULT FALSE;
-- os/architecture[/variant] from the image config.
ALTER TABLE images ADD COLUMN platform TEXT;
-- JSON object of the config's labels.
ALTER TABLE images ADD COLUMN labels TEXT;
ALTER TABLE images ADD COLUMN config_user TEXT;
ALTER TABLE images ADD COLUMN base_name TEXT;
ALTER TABLE images ADD COLUMN base_digest TEXT;
-- JSON array of the layers' diff IDs.
ALTER TABLE images ADD COLUMN diff_ids TEXT;
-- When the collector read the manifest and config (an unchanged digest is not fetched again).
ALTER TABLE images ADD COLUMN collected_at TEXT;
-- none | present | verified; the detail names the key or why it did not verify.
ALTER TABLE images ADD COLUMN signature TEXT NOT NULL DEFAULT 'none';
ALTER TABLE images ADD COLUMN signature_detail TEXT;
-- The digest of the signature manifest last checked (checked again only when it changes).
ALTER TABLE images ADD COLUMN signature_ref TEXT;

CREATE TABLE image_platforms (
    index_image_id INTEGER NOT NULL REFERENCES images (id),
    image_id       INTEGER NOT NULL REFERENCES images (id),
    platform       TEXT NOT NULL,
    PRIMARY KEY (index_image_id, image_id)
);
CREATE INDEX image_platforms_image ON image_platforms (image_id);

-- Pushes and deletions the registry notified (pulls are acknowledged, not kept).
CREATE TABLE registry_events (
    id          INTEGER PRIMARY KEY,
    registry_id INTEGER NOT NULL REFERENCES registries (id),
    event_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    repository  TEXT NOT NULL,
    tag         TEXT,
    digest      TEXT,
    actor       TEXT,
    source_addr TEXT,
    user_agent  TEXT,
    happened_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (registry_id, event_id)
);
CREATE INDEX registry_events_repo ON registry_events (registry_id, repository, tag);
