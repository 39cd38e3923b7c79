-- 0029_rescore_requests: marking a facility for rescoring appends a row, never locks one (issue 24).
--
-- A report marked its facility stale by upserting the facility's row in rescore_marks, and held
-- that row's lock to commit: every report to one facility — a school entering its backlog, a
-- hotline's busiest school — waited for the one before it (measured: 160 tx/s at 32 clients for
-- pgbench inserting bare report rows, every backend waiting on another's transaction). A request
-- is now a row of its own; the marks are the requests grouped by facility (a view with the old
-- table's columns: `generation` is the newest request's number, so a mark read before a newer
-- request arrives is still cleared only up to what was read, as before).

CREATE TABLE rescore_requests (
    seq          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    facility_id  uuid        NOT NULL REFERENCES facilities (id),
    requested_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX rescore_requests_facility_idx ON rescore_requests (facility_id, seq);

INSERT INTO rescore_requests (facility_id, requested_at) SELECT facility_id, marked_at FROM rescore_marks ORDER BY marked_at;
DROP TABLE rescore_marks;
CREATE VIEW rescore_marks AS
    SELECT facility_id, max(seq) AS generation, min(requested_at) AS marked_at FROM rescore_requests GROUP BY facility_id;

CREATE OR REPLACE FUNCTION centinela_mark_for_rescore(facility uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    mine bigint;
BEGIN
    INSERT INTO rescore_requests (facility_id) VALUES (facility) RETURNING seq INTO mine;
    -- Only a first request wakes the worker: one already waiting will be seen anyway, and NOTIFY
    -- serialises the commits of the transactions that send it. Two first requests committing
    -- together may both notify (harmless); the worker also polls, so a lost one only delays.
    IF NOT EXISTS (SELECT 1 FROM rescore_requests r WHERE r.facility_id = facility AND r.seq < mine) THEN
        PERFORM pg_notify('centinela_rescore', facility::text);
    END IF;
END;
$$;

CREATE OR REPLACE FUNCTION centinela_pending_rescores(max_marks integer)
RETURNS TABLE (facility_id uuid, generation bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF centinela_scope_role() IS DISTINCT FROM 'system' THEN
        RAISE EXCEPTION 'rescore marks are for the system scope' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY SELECT m.facility_id, m.generation FROM rescore_marks m ORDER BY m.marked_at, m.facility_id LIMIT max_marks;
END;
$$;

-- Deletes the requests up to what was read, facility by facility; returns how many facilities.
CREATE OR REPLACE FUNCTION centinela_clear_rescores(facilities uuid[], generations bigint[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    cleared integer;
BEGIN
    IF centinela_scope_role() IS DISTINCT FROM 'system' THEN
        RAISE EXCEPTION 'rescore marks are for the system scope' USING ERRCODE = 'insufficient_privilege';
    END IF;
    WITH gone AS (
        DELETE FROM rescore_requests r USING unnest(facilities, generations) AS done(facility_id, generation)
        WHERE r.facility_id = done.facility_id AND r.seq <= done.generation
        RETURNING r.facility_id)
    SELECT count(DISTINCT g.facility_id) INTO cleared FROM gone g;
    RETURN cleared;
END;
$$;

-- A new report is folded into report_current once, at commit, with its adults and children in
-- place: the statement-level triggers folded it at its own insert and again at each of its parts'
-- (three folds a report, half of what the database spent on ingest). Bulk writes fold per chunk
-- themselves (centinela_finish_bulk_write, Schema/0016), and a simulation load at its end: a
-- report already folded is left alone. Decisions and corrections to stored reports are folded by
-- their statements' triggers, as before.
CREATE FUNCTION centinela_report_current_at_commit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF current_setting('centinela.bulk_write', true) = 'on'
       OR EXISTS (SELECT 1 FROM report_current c WHERE c.report_id = NEW.id) THEN
        RETURN NULL;
    END IF;
    PERFORM centinela_refresh_report_current(ARRAY[NEW.id]);
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION centinela_report_current_at_commit() FROM PUBLIC;
DROP TRIGGER incident_reports_current ON incident_reports;
CREATE CONSTRAINT TRIGGER incident_reports_current_at_commit AFTER INSERT ON incident_reports
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION centinela_report_current_at_commit();

-- A report's parts are written with it: folded at its commit. Parts of a report already folded
-- (none today; a future correction path) are folded at once.
CREATE OR REPLACE FUNCTION centinela_report_current_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    reports uuid[];
BEGIN
    IF current_setting('centinela.bulk_write', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME IN ('report_adults', 'report_children') THEN
        reports := ARRAY(SELECT DISTINCT w.report_id FROM written w
                         WHERE EXISTS (SELECT 1 FROM report_current c WHERE c.report_id = w.report_id));
    ELSE
        reports := ARRAY(SELECT DISTINCT report_id FROM written);
    END IF;
    IF cardinality(reports) > 0 THEN
        PERFORM centinela_refresh_report_current(reports);
    END IF;
    RETURN NULL;
END;
$$;
