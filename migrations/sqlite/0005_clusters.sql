-- What runs: clusters, their nodes, pods and containers (keyed to images by digest at query
-- time, so a container links to an image however late the image becomes known).

CREATE TABLE clusters (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    -- The API server (NULL: the cluster only receives uploads).
    server       TEXT,
    -- The environment variable holding the bearer token (never the token).
    token_env    TEXT,
    ca_pem       TEXT,
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    last_attempt TEXT,
    last_success TEXT,
    last_error   TEXT,
    failures     INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT,
    last_upload  TEXT
);

CREATE TABLE nodes (
    id                INTEGER PRIMARY KEY,
    cluster_id        INTEGER NOT NULL REFERENCES clusters (id),
    name              TEXT NOT NULL,
    kubelet_version   TEXT,
    container_runtime TEXT,
    kernel            TEXT,
    os_image          TEXT,
    architecture      TEXT,
    operating_system  TEXT,
    first_seen        TEXT NOT NULL,
    last_seen         TEXT NOT NULL,
    UNIQUE (cluster_id, name)
);

CREATE TABLE pods (
    id            INTEGER PRIMARY KEY,
    cluster_id    INTEGER NOT NULL REFERENCES clusters (id),
    uid           TEXT NOT NULL,
    namespace     TEXT NOT NULL,
    name          TEXT NOT NULL,
    node          TEXT,
    workload_kind TEXT,
    workload_name TEXT,
    phase         TEXT,
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    -- Set when an upload or collection that covers the pod no longer lists it (kept as history).
    ended_at      TEXT,
    UNIQUE (cluster_id, uid)
);
CREATE INDEX pods_live ON pods (cluster_id, ended_at);

CREATE TABLE pod_labels (
    pod_id INTEGER NOT NULL REFERENCES pods (id),
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (pod_id, key)
);

CREATE TABLE containers (
    id              INTEGER PRIMARY KEY,
    pod_id          INTEGER NOT NULL REFERENCES pods (id),
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    image           TEXT NOT NULL,
    image_id        TEXT NOT NULL,
    digest          TEXT,
    digest_is_bare  BOOLEAN NOT NULL DEFAULT FALSE,
    run_as_user     INTEGER,
    run_as_non_root BOOLEAN,
    state           TEXT NOT NULL,
    reason          TEXT,
    first_seen      TEXT NOT NULL,
    last_seen       TEXT NOT NULL,
    UNIQUE (pod_id, kind, name)
);
CREATE INDEX containers_digest ON containers (digest);
