-- Issue 21: `findings` (each scanner's current findings per image) is read only by the ingest that
-- writes it, always by image and scanner — the leading columns of its identity's unique key. Its
-- three other indexes (open findings by image and severity, by vulnerability, by package name) and
-- its surrogate key were written for every finding of every report and read by nothing since the
-- evaluation, the search and the campaigns moved to `image_vulnerabilities`; with 2,000,000 rows
-- their upkeep was most of the findings' upsert, itself half of a report's statement time.
DROP INDEX findings_open;
DROP INDEX findings_vulnerability;
DROP INDEX findings_package;
ALTER TABLE findings DROP COLUMN id;
