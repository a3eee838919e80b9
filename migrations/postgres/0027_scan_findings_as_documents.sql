-- Issue 21: the findings a report listed, kept as one document on its scan row instead of a row
-- per finding. They are the scan's evidence (what the report said, as it said it); nothing reads
-- them per finding — the merged, queried findings are `findings` and `image_vulnerabilities`.
-- Written per finding (1,000 rows for a 1,000-finding report, each in the table and its
-- five-column key) they took 10-17 % of an upload's statement time (BENCHMARKS.md, sessions 21, 23). The document is a JSON array of
-- [vulnerability_id, package_name, installed_version, package_path, severity, fixed_version]
-- (TEXT: PostgreSQL compresses it when stored; nothing queries into it).
ALTER TABLE scans ADD COLUMN listed_findings TEXT NOT NULL DEFAULT '[]';
UPDATE scans SET listed_findings = d.doc
FROM (SELECT f.scan_id,
             json_agg(json_build_array(f.vulnerability_id, f.package_name, f.installed_version, f.package_path, f.severity, f.fixed_version))::text AS doc
      FROM scan_findings f GROUP BY f.scan_id) d
WHERE d.scan_id = scans.id;
DROP TABLE scan_findings;
