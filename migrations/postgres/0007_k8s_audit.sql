-- Kubernetes audit events, as facts (never request or response objects): who did what to which
-- object, from where, with what verdict. Each is also an entry of the ledger.
CREATE TABLE k8s_audit (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cluster     TEXT NOT NULL,
    audit_id    TEXT NOT NULL,
    stage       TEXT NOT NULL,
    verb        TEXT NOT NULL,
    username    TEXT,
    groups      TEXT NOT NULL,
    impersonated TEXT,
    resource    TEXT,
    subresource TEXT,
    namespace   TEXT,
    name        TEXT,
    images      TEXT NOT NULL,
    source_ips  TEXT NOT NULL,
    user_agent  TEXT,
    code        BIGINT,
    decision    TEXT,
    happened_at TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    UNIQUE (cluster, audit_id, stage)
);
CREATE INDEX k8s_audit_object ON k8s_audit (cluster, namespace, resource, name);
