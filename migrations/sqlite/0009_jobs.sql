-- Durable jobs (issue 11): one row per job (kind, key), claimed by one worker at a time with a
-- lease; periodic jobs carry their period and are inserted once whatever the number of replicas.

CREATE TABLE jobs (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,
    key            TEXT NOT NULL,
    -- When the job is next due.
    run_at         TEXT NOT NULL,
    -- NULL: runs once (then the row is deleted); else the period in seconds.
    period_seconds BIGINT,
    -- A one-off job runs this many more times, a few seconds apart (a push seen before its tag).
    repeat         BIGINT  NOT NULL DEFAULT 0,
    -- Failures in a row (the back-off grows with it).
    attempts       BIGINT  NOT NULL DEFAULT 0,
    -- The worker holding the job, the claim's own token and until when the lease holds.
    locked_by      TEXT,
    claim          TEXT,
    locked_until   TEXT,
    last_started   TEXT,
    last_success   TEXT,
    last_failure   TEXT,
    last_error     TEXT,
    UNIQUE (kind, key)
);
CREATE INDEX jobs_due ON jobs (run_at);

-- Every run of every job: which worker, for which due time, how it ended.
CREATE TABLE job_runs (
    id          INTEGER PRIMARY KEY,
    job_id      BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    worker      TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    -- running, ok, failed, abandoned (its worker's lease ran out: another worker took it over)
    outcome     TEXT NOT NULL,
    error       TEXT
);
CREATE INDEX job_runs_started ON job_runs (started_at);
CREATE INDEX job_runs_job ON job_runs (job_id, outcome);
