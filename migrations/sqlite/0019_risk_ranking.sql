-- Issue 23: "fix these first". The ranking job stores, per vulnerability, its exposure and score:
-- for the estate (scope '*'), for each team (its name) and for images of no team (scope ''). Pages
-- and the API read the top of a scope by its index, whatever the estate's size.
CREATE TABLE risk_items (
    scope          TEXT NOT NULL,
    vulnerability  TEXT NOT NULL,
    score          REAL NOT NULL,
    severity       TEXT NOT NULL,
    kev            BOOLEAN NOT NULL,
    epss           REAL,
    images         INTEGER NOT NULL,
    instances      INTEGER NOT NULL,
    production     INTEGER NOT NULL,
    other          INTEGER NOT NULL,
    registry_only  INTEGER NOT NULL,
    environments   TEXT NOT NULL,
    teams          TEXT NOT NULL,
    PRIMARY KEY (scope, vulnerability)
);
CREATE INDEX risk_items_rank ON risk_items (scope, score DESC, vulnerability);

-- The data version the stored ranking was computed from (the job skips a run when none changed).
CREATE TABLE risk_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    ranked_version  INTEGER NOT NULL,
    ranked_at       TEXT NOT NULL
);
