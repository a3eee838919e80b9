-- Issue 21: the rows a report writes per finding and per package carry no foreign keys on
-- PostgreSQL. Each key cost a row-level trigger per inserted row (eight per finding: about a
-- third of a 1,000-finding upload), and guarded nothing the write path does not: the parents
-- (images, scans, vulnerabilities, packages) are never deleted, and every one of these rows is
-- written by the ingest's one transaction with ids that transaction has just read or written.
-- The indexes stay; SQLite, whose key checks are cheap index probes inside its VM, keeps them.
ALTER TABLE findings DROP CONSTRAINT IF EXISTS findings_image_id_fkey;
ALTER TABLE findings DROP CONSTRAINT IF EXISTS findings_last_scan_id_fkey;
ALTER TABLE findings DROP CONSTRAINT IF EXISTS findings_vulnerability_id_fkey;
ALTER TABLE scan_findings DROP CONSTRAINT IF EXISTS scan_findings_scan_id_fkey;
ALTER TABLE image_vulnerabilities DROP CONSTRAINT IF EXISTS image_vulnerabilities_image_id_fkey;
ALTER TABLE image_vulnerabilities DROP CONSTRAINT IF EXISTS image_vulnerabilities_vulnerability_id_fkey;
ALTER TABLE image_packages DROP CONSTRAINT IF EXISTS image_packages_image_id_fkey;
ALTER TABLE image_packages DROP CONSTRAINT IF EXISTS image_packages_package_id_fkey;
