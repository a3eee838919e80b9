-- Issue 25: evidence for auditors. A read-only `auditor` role for people and tokens.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check
    CHECK (role IN ('ingest', 'admission', 'viewer', 'auditor', 'developer', 'manager', 'security', 'admin'));
ALTER TABLE role_mappings DROP CONSTRAINT role_mappings_role_check;
ALTER TABLE role_mappings ADD CONSTRAINT role_mappings_role_check
    CHECK (role IN ('viewer', 'auditor', 'developer', 'manager', 'security', 'admin'));

-- The content of each day's scorecard snapshot as it was hashed into its ledger entry
-- (`scorecard.snapshot`): canonical JSON of the scores, the failing subjects and the policies in
-- force. Taken again the same day, it is replaced; the ledger keeps every entry.
CREATE TABLE scorecard_documents (
    day         DATE PRIMARY KEY,
    sha256      TEXT NOT NULL,
    document    TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);

-- Evidence picks ledger entries by what they record (their kind), up to a time.
CREATE INDEX audit_events_kind ON audit_events (kind, time);
