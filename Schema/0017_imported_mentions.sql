-- 0017_imported_mentions: the linking update finds the adults named in reports imported since its
-- last run. It looked for reports *received* since then, and an imported report keeps its original
-- receipt date, years back: its mentions waited for the next full rebuild.
CREATE INDEX incident_reports_imported_idx ON incident_reports (imported_at) WHERE imported_at IS NOT NULL;
