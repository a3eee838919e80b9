-- Issue 23: the secrets Trivy found in an image (its `Secrets` results): which file, which rule,
-- what kind, how severe, where in the file and which layer — never the secret itself (Trivy's
-- `Code` and `Match` are not read). The newest Trivy report of an image replaces its secrets.
CREATE TABLE image_secrets (
    id             INTEGER PRIMARY KEY,
    image_id       INTEGER NOT NULL REFERENCES images (id),
    target         TEXT NOT NULL,
    rule_id        TEXT NOT NULL,
    category       TEXT NOT NULL,
    severity       TEXT NOT NULL,
    title          TEXT NOT NULL,
    start_line     INTEGER,
    end_line       INTEGER,
    layer_diff_id  TEXT,
    reported_at    TEXT NOT NULL
);
CREATE INDEX image_secrets_image ON image_secrets (image_id);
