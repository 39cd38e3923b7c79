-- 0016_bulk_import: a historic import keeps report_current and the rescore marks up to date once
-- per chunk of reports, not once per statement and row (docs/operations.md, "Importing history").
--
-- A chunk of 5,000 imported reports is written in four statements (reports, adults, children,
-- decisions); each refreshed report_current for the whole chunk, and every report and decision
-- upserted its facility's rescore mark, row by row. The import now sets centinela.bulk_write for
-- its transaction, the two triggers stand aside, and the import calls
-- centinela_finish_bulk_write(ids) after each chunk: one refresh, one mark per facility. The
-- setting is transaction-local (set_config(..., true)) and the import turns it off again.
CREATE OR REPLACE FUNCTION centinela_report_current_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF current_setting('centinela.bulk_write', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME = 'incident_reports' THEN
        PERFORM centinela_refresh_report_current(ARRAY(SELECT id FROM written));
    ELSE
        PERFORM centinela_refresh_report_current(ARRAY(SELECT DISTINCT report_id FROM written));
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION centinela_mark_report_facility() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF current_setting('centinela.bulk_write', true) = 'on'
       AND TG_TABLE_NAME IN ('incident_reports', 'report_status_changes') THEN
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME IN ('incident_reports', 'risk_band_overrides') THEN
        PERFORM centinela_mark_for_rescore(NEW.facility_id);
    ELSIF TG_TABLE_NAME = 'facilities' THEN
        PERFORM centinela_mark_for_rescore(NEW.id);
    ELSE
        PERFORM centinela_mark_for_rescore(r.facility_id) FROM incident_reports r WHERE r.id = NEW.report_id;
    END IF;
    RETURN NULL;
END;
$$;

-- What the triggers stood aside from, for the reports just written: their report_current rows
-- and one rescore mark per facility. Recomputes derived rows only; returns nothing.
CREATE FUNCTION centinela_finish_bulk_write(reports uuid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM centinela_refresh_report_current(reports);
    PERFORM centinela_mark_for_rescore(f.facility_id)
    FROM (SELECT DISTINCT r.facility_id FROM incident_reports r WHERE r.id = ANY (reports) ORDER BY r.facility_id) f;
END;
$$;
REVOKE ALL ON FUNCTION centinela_finish_bulk_write(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION centinela_finish_bulk_write(uuid[]) TO centinela_service;
