-- Issue 21: a pod's owner by the pod-label and namespace rules, stored with the pod when it is
-- written or a rule is added, instead of worked out with two correlated subqueries for every
-- container each time what runs is read (the first search after a change, campaigns and the
-- policy evaluation each read all 100,000 live containers at enterprise size). The image's own
-- owner (repository prefix) is still joined at read time: it is one primary-key lookup.
ALTER TABLE pods ADD COLUMN rule_team_id INTEGER REFERENCES teams (id);
UPDATE pods SET rule_team_id = COALESCE(
    (SELECT r.team_id FROM ownership_rules r JOIN pod_labels l ON l.pod_id = pods.id AND r.pattern = l.key || '=' || l.value
     WHERE r.kind = 'label' ORDER BY r.id LIMIT 1),
    (SELECT r.team_id FROM ownership_rules r WHERE r.kind = 'namespace' AND r.pattern = pods.namespace ORDER BY r.id LIMIT 1));
