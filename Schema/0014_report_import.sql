-- 0014_report_import: reports brought in from another system with their original dates
-- (docs/operations.md, "Importing history"; decision 32).
--
-- An imported report keeps the receipt time it had in the other system (received_at), which the
-- risk model's decay, silence and the alert rules read; when it reached Centinela is imported_at.
-- Its source (system and the report's id there) makes a second import of the same file store
-- nothing new: one report per source id at a facility.
ALTER TABLE incident_reports ADD COLUMN source_system text CHECK (source_system ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$');
ALTER TABLE incident_reports ADD COLUMN source_id text CHECK (length(source_id) BETWEEN 1 AND 200);
ALTER TABLE incident_reports ADD COLUMN imported_at timestamptz;
ALTER TABLE incident_reports ADD CONSTRAINT incident_reports_source_check
    CHECK ((source_system IS NULL) = (source_id IS NULL) AND (source_system IS NULL) = (imported_at IS NULL));
CREATE UNIQUE INDEX incident_reports_source_idx ON incident_reports (facility_id, source_system, source_id)
    WHERE source_system IS NOT NULL;
