-- Facts the policies and the estate search need.
--
-- findings (one row per image, scanner and finding) gain the package's coordinates (its purl
-- without version and qualifiers), EPSS, and the report's own time as evidence: first_seen now
-- means when Drydock first received a report listing it. Rows from before keep the earliest
-- receipt of a report from that scanner on that image (a lower bound), and the scanner's clock
-- in first_reported.
ALTER TABLE findings ADD COLUMN purl_type TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN purl_namespace TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN purl_name TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN epss DOUBLE PRECISION;
ALTER TABLE findings ADD COLUMN first_reported TIMESTAMPTZ;
UPDATE findings SET first_reported = first_seen,
    first_seen = COALESCE((SELECT MIN(s.received_at) FROM scans s WHERE s.image_id = findings.image_id AND s.scanner = findings.scanner), first_seen);

-- One finding per (image, vulnerability, package, version, path) across scanners (the path
-- counts for language packages only): what counts, searches and policies read. Rebuilt for an
-- image in the transaction that stores a report on it.
CREATE TABLE image_vulnerabilities (
    image_id          BIGINT NOT NULL REFERENCES images (id),
    vulnerability_id  TEXT NOT NULL REFERENCES vulnerabilities (id),
    purl_type         TEXT NOT NULL,
    purl_namespace    TEXT NOT NULL,
    purl_name         TEXT NOT NULL,
    package_name      TEXT NOT NULL,
    installed_version TEXT NOT NULL,
    path_key          TEXT NOT NULL,
    -- The worst severity among the scanners that list it now (all of them once resolved).
    severity          TEXT NOT NULL,
    fixed_version     TEXT,
    epss              DOUBLE PRECISION,
    -- Comma-separated scanners that list it now.
    scanners          TEXT NOT NULL,
    first_seen        TIMESTAMPTZ NOT NULL,
    resolved_at       TIMESTAMPTZ,
    PRIMARY KEY (image_id, vulnerability_id, purl_type, purl_namespace, purl_name, installed_version, path_key)
);
CREATE INDEX image_vulnerabilities_open ON image_vulnerabilities (image_id, severity) WHERE resolved_at IS NULL;
CREATE INDEX image_vulnerabilities_vulnerability ON image_vulnerabilities (vulnerability_id) WHERE resolved_at IS NULL;
CREATE INDEX image_vulnerabilities_package ON image_vulnerabilities (purl_type, purl_namespace, purl_name) WHERE resolved_at IS NULL;

-- What scanners say about the image itself.
ALTER TABLE images ADD COLUMN os_family TEXT;
ALTER TABLE images ADD COLUMN eosl BOOLEAN;

-- The CISA Known Exploited Vulnerabilities catalogue, as security last uploaded it.
CREATE TABLE kev (
    cve_id           TEXT PRIMARY KEY,
    vendor           TEXT NOT NULL,
    product          TEXT NOT NULL,
    name             TEXT NOT NULL,
    date_added       DATE NOT NULL,
    due_date         DATE,
    known_ransomware TEXT NOT NULL
);
CREATE TABLE kev_uploads (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version     TEXT NOT NULL,
    released    TIMESTAMPTZ NOT NULL,
    entries     BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    uploaded_at TIMESTAMPTZ NOT NULL,
    uploaded_by TEXT NOT NULL
);
