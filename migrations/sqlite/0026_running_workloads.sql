-- Issue 21: what runs, kept as a read model by every pod and node upload. One row per live (pod
-- not ended, container not terminated) container's (cluster, namespace, workload, digest, node
-- platform, the pod's own owner), each once. A campaign and the estate search read the workloads
-- running thousands of images here: at `enterprise` 100,000 live containers joined to their pods
-- and nodes and then made distinct as strings cost most of a campaign's creation; this table holds
-- some 40,000 rows. The image a digest names is joined when reading (a later scan can name it); the
-- platform picks an index's manifest as the workloads join does (`backend/workloads.rs`).
CREATE TABLE running_workloads (
    cluster_id INTEGER NOT NULL REFERENCES clusters (id),
    namespace  TEXT NOT NULL,
    -- `kind/name` of the owning workload, `Pod/<name>` for a bare pod.
    workload   TEXT NOT NULL,
    digest     TEXT NOT NULL,
    -- The node's `os/architecture`; '' when the node or its architecture is not known.
    platform   TEXT NOT NULL,
    -- The pod's owner by a namespace or pod-label rule (the image's owner is joined when reading).
    team_id    INTEGER REFERENCES teams (id)
);
CREATE INDEX running_workloads_place ON running_workloads (cluster_id, namespace);
CREATE INDEX running_workloads_digest ON running_workloads (digest);

INSERT INTO running_workloads (cluster_id, namespace, workload, digest, platform, team_id)
SELECT DISTINCT p.cluster_id, p.namespace,
       CASE WHEN p.workload_kind IS NULL THEN 'Pod/' || p.name ELSE p.workload_kind || '/' || p.workload_name END,
       c.digest, COALESCE(COALESCE(n.operating_system, 'linux') || '/' || n.architecture, ''), p.rule_team_id
FROM containers c
JOIN pods p ON p.id = c.pod_id
LEFT JOIN nodes n ON n.cluster_id = p.cluster_id AND n.name = p.node
WHERE p.ended_at IS NULL AND c.state <> 'terminated' AND c.digest IS NOT NULL;
