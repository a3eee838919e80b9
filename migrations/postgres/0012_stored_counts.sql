-- Open findings per image and severity, kept with the image (updated in the transaction that
-- rebuilds its findings), so the image list, team pages and the overview read counts per image
-- instead of aggregating every finding on every request.
ALTER TABLE images ADD COLUMN open_critical BIGINT NOT NULL DEFAULT 0;
ALTER TABLE images ADD COLUMN open_high BIGINT NOT NULL DEFAULT 0;
ALTER TABLE images ADD COLUMN open_medium BIGINT NOT NULL DEFAULT 0;
ALTER TABLE images ADD COLUMN open_low BIGINT NOT NULL DEFAULT 0;
ALTER TABLE images ADD COLUMN open_negligible BIGINT NOT NULL DEFAULT 0;
ALTER TABLE images ADD COLUMN open_unknown BIGINT NOT NULL DEFAULT 0;
UPDATE images SET
    open_critical = (SELECT COUNT(*) FROM image_vulnerabilities v WHERE v.image_id = images.id AND v.resolved_at IS NULL AND v.severity = 'critical'),
    open_high = (SELECT COUNT(*) FROM image_vulnerabilities v WHERE v.image_id = images.id AND v.resolved_at IS NULL AND v.severity = 'high'),
    open_medium = (SELECT COUNT(*) FROM image_vulnerabilities v WHERE v.image_id = images.id AND v.resolved_at IS NULL AND v.severity = 'medium'),
    open_low = (SELECT COUNT(*) FROM image_vulnerabilities v WHERE v.image_id = images.id AND v.resolved_at IS NULL AND v.severity = 'low'),
    open_negligible = (SELECT COUNT(*) FROM image_vulnerabilities v WHERE v.image_id = images.id AND v.resolved_at IS NULL AND v.severity = 'negligible'),
    open_unknown = (SELECT COUNT(*) FROM image_vulnerabilities v WHERE v.image_id = images.id AND v.resolved_at IS NULL AND v.severity = 'unknown');
