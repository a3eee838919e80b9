-- A CycloneDX BOM without vulnerability data is an SBOM only: it records packages, never
-- resolves findings, and does not make an image count as scanned.
ALTER TABLE scans ADD COLUMN vulnerability_data BOOLEAN NOT NULL DEFAULT TRUE;
