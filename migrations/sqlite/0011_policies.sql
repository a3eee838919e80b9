-- Policies (issue 12): their settings, the environments admins define, the stored evaluation
-- (every subject's result, the per-team scores pages read) and the daily scorecard snapshots.

-- A policy's settings as security last saved them (absent: the defaults).
CREATE TABLE policies (
    id         TEXT PRIMARY KEY,
    enabled    BOOLEAN NOT NULL,
    scope      TEXT NOT NULL,
    params     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

-- Where workloads run: (cluster, namespace pattern) → environment, shaped like ownership rules.
CREATE TABLE environment_rules (
    id              INTEGER PRIMARY KEY,
    cluster         TEXT NOT NULL,
    namespace       TEXT NOT NULL,
    environment     TEXT NOT NULL,
    production      BOOLEAN NOT NULL,
    internet_facing BOOLEAN NOT NULL,
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    UNIQUE (cluster, namespace)
);

-- Each subject's result per policy, replaced by each evaluation.
CREATE TABLE policy_results (
    policy        TEXT NOT NULL,
    subject_kind  TEXT NOT NULL,
    subject       TEXT NOT NULL,
    team          TEXT,
    environment   TEXT,
    passed        BOOLEAN NOT NULL,
    reason        TEXT NOT NULL,
    failing_since TEXT,
    PRIMARY KEY (policy, subject_kind, subject)
);
CREATE INDEX policy_results_team ON policy_results (team, policy, passed);

-- Per team ('' for subjects of no team) and policy: what the scorecards read.
CREATE TABLE policy_scores (
    team         TEXT NOT NULL,
    policy       TEXT NOT NULL,
    subjects     BIGINT NOT NULL,
    failing      BIGINT NOT NULL,
    evaluated_at TEXT NOT NULL,
    PRIMARY KEY (team, policy)
);

-- One row per day, team and policy.
CREATE TABLE scorecard_snapshots (
    day      TEXT NOT NULL,
    team     TEXT NOT NULL,
    policy   TEXT NOT NULL,
    subjects BIGINT NOT NULL,
    failing  BIGINT NOT NULL,
    PRIMARY KEY (day, team, policy)
);
