-- Durable jobs (issue 11): one row per job (kind, key), claimed by one worker at a time with a
-- lease; periodic jobs carry their period and are inserted once whatever the number of replicas.

CREATE TABLE jobs (
    id             BIGSERIAL PRIMARY KEY,
    kind           TEXT NOT NULL,
    key            TEXT NOT NULL,
    -- When the job is next due.
    run_at         TIMESTAMPTZ NOT NULL,
    -- NULL: runs once (then the row is deleted); else the period in seconds.
    period_seconds BIGINT,
    -- A one-off job runs this many more times, a few seconds apart (a push seen before its tag).
    repeat         BIGINT  NOT NULL DEFAULT 0,
    -- Failures in a row (the back-off grows with it).
    attempts       BIGINT  NOT NULL DEFAULT 0,
    -- The worker holding the job, the claim's own token and until when the lease holds.
    locked_by      TEXT,
    claim          TEXT,
    locked_until   TIMESTAMPTZ,
    last_started   TIMESTAMPTZ,
    last_success   TIMESTAMPTZ,
    last_failure   TIMESTAMPTZ,
    last_error     TEXT,
    UNIQUE (kind, key)
);
CREATE INDEX jobs_due ON jobs (run_at);

-- Every run of every job: which worker, for which due time, how it ended.
CREATE TABLE job_runs (
    id          BIGSERIAL PRIMARY KEY,
    job_id      BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    worker      TEXT NOT NULL,
    due_at      TIMESTAMPTZ NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    -- running, ok, failed, abandoned (its worker's lease ran out: another worker took it over)
    outcome     TEXT NOT NULL,
    error       TEXT
);
CREATE INDEX job_runs_started ON job_runs (started_at);
CREATE INDEX job_runs_job ON job_runs (job_id, outcome);
