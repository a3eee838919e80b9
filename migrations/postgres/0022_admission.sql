-- Issue 24: the admission webhook. Its callers hold tokens of a new role, `admission`.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check
    CHECK (role IN ('ingest', 'admission', 'viewer', 'developer', 'manager', 'security', 'admin'));

-- What security set for admission (one row; absent: the defaults).
CREATE TABLE admission_settings (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    settings   TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL
);

-- The webhook reads an image's outstanding items and failing results by the image.
CREATE INDEX campaign_items_image ON campaign_items (image_id, state);
CREATE INDEX policy_results_subject ON policy_results (subject_kind, subject);
