-- Issue 23: the checklist's forensics evidence reads pushes by the digest pushed and audited
-- access to pods newest first; without these each read would go through every event.
CREATE INDEX registry_events_digest ON registry_events (digest, action);
CREATE INDEX k8s_audit_pods ON k8s_audit (resource, happened_at);
