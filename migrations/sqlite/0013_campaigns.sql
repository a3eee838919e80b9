-- Patch campaigns (issue 13): campaigns and their items, contacts per team, the escalation
-- decisions (one per item and level, ever), the outbox of digest messages and its delivery log.

CREATE TABLE campaigns (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title       TEXT NOT NULL,
    cves        TEXT NOT NULL,      -- JSON array of vulnerability ids
    package     TEXT,               -- a package URL without version
    range_vers  TEXT,               -- a vers range of that package
    scope       TEXT NOT NULL DEFAULT 'all', -- all, team:NAME, namespace:NAME, environment:NAME
    deadline    TEXT,               -- YYYY-MM-DD; NULL: each item's from the SLA policy
    ladder      TEXT NOT NULL,      -- JSON [{"level","days","recipients"}]
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    refreshed_at TEXT
);

-- One per (campaign, affected image); the team is the image's owner when it joined (NULL: no team).
CREATE TABLE campaign_items (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id           BIGINT NOT NULL REFERENCES campaigns (id),
    image_id              BIGINT NOT NULL REFERENCES images (id),
    team                  TEXT,
    running               BOOLEAN NOT NULL,
    workloads             BIGINT NOT NULL,
    state                 TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'pending_verification', 'excepted', 'fixed', 'retired')),
    severity              TEXT NOT NULL,
    first_seen            TEXT NOT NULL,
    deadline              TEXT NOT NULL,
    planned               TEXT,
    note                  TEXT,
    acknowledged_by       TEXT,
    acknowledged_at       TEXT,
    exception_state       TEXT CHECK (exception_state IN ('requested', 'approved', 'rejected', 'expired')),
    exception_reason      TEXT,
    exception_until       TEXT,
    exception_by          TEXT,
    exception_at          TEXT,
    decision_note         TEXT,
    decided_by            TEXT,
    decided_at            TEXT,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    closed_at             TEXT,
    UNIQUE (campaign_id, image_id)
);
CREATE INDEX campaign_items_team ON campaign_items (team, state);
CREATE INDEX campaign_items_state ON campaign_items (state, deadline);

-- The workloads that ran an affected image of an item: the item is fixed when each of them runs a
-- scanned, unaffected image, retired when all of them are gone.
CREATE TABLE campaign_item_workloads (
    item_id   BIGINT NOT NULL REFERENCES campaign_items (id),
    cluster   TEXT NOT NULL,
    namespace TEXT NOT NULL,
    workload  TEXT NOT NULL,
    PRIMARY KEY (item_id, cluster, namespace, workload)
);

-- Who hears of a team's items at each level ('' : the global contacts, who hear every team's
-- messages of their level and those of items of no team).
CREATE TABLE contacts (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    team    TEXT NOT NULL,
    level   BIGINT NOT NULL,
    email   TEXT,
    webhook TEXT,
    CHECK (email IS NOT NULL OR webhook IS NOT NULL)
);
CREATE INDEX contacts_team ON contacts (team, level);

-- An escalation decided: each (item, level) once, whichever replica decides it.
CREATE TABLE deliveries (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id    BIGINT NOT NULL REFERENCES campaign_items (id),
    level      BIGINT NOT NULL,
    decided_at TEXT NOT NULL,
    run        TEXT NOT NULL,
    UNIQUE (item_id, level)
);

-- One digest message per recipient per escalation run; claimed by one sender at a time.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    channel       TEXT NOT NULL CHECK (channel IN ('email', 'webhook', 'inbox')),
    address       TEXT NOT NULL,
    team          TEXT,
    level         BIGINT NOT NULL,
    subject       TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    next_attempt  TEXT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    claimed_by    TEXT,
    claimed_until TEXT,
    sent_at       TEXT,
    gave_up_at    TEXT,
    last_error    TEXT
);
CREATE INDEX outbox_due ON outbox (sent_at, gave_up_at, next_attempt);
CREATE INDEX outbox_team ON outbox (channel, team, created_at);

CREATE TABLE outbox_items (
    message_id  BIGINT NOT NULL REFERENCES outbox (id),
    delivery_id BIGINT NOT NULL REFERENCES deliveries (id),
    PRIMARY KEY (message_id, delivery_id)
);

-- Every attempt to send a message: what security reads to see that nothing was lost.
CREATE TABLE delivery_attempts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id BIGINT NOT NULL REFERENCES outbox (id),
    at         TEXT NOT NULL,
    worker     TEXT NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('sent', 'retry', 'gave_up')),
    detail     TEXT NOT NULL
);
CREATE INDEX delivery_attempts_message ON delivery_attempts (message_id, at);
