-- 0004_report_current: each report as it stands now, kept beside the append-only record, and
-- scores stored as the exact JSON the service computed.
--
-- Why: scoring a facility needs each report as it stands (its latest decision, its latest
-- correction of each field, its adults and youngest child). Folding the append-only tables on
-- every read cost a national rescore ~35 s of database time and the on-ingest worker seconds per
-- round at national scale (docs/performance.md). The fold now happens once, when a report, a
-- decision or a correction is written, in the same transaction.

-- Derived, never the record: the rows are rebuilt from incident_reports, report_adults,
-- report_children, report_status_changes and report_amendments, which stay append-only and are
-- what the API shows. Only the functions below write here (with the owner's rights); every other
-- role may at most read it, under the same row-level rules as the reports themselves.
-- (No foreign key: every row comes from a join with incident_reports, whose rows are never
-- deleted, and checking one per row doubled the cost of folding a national load.)
CREATE TABLE report_current (
    report_id          uuid        PRIMARY KEY,
    facility_id        uuid        NOT NULL,
    received_at        timestamptz NOT NULL,
    category           text        NOT NULL,
    reporter_type      text        NOT NULL,
    status             text        NOT NULL,
    mo_tags            text[]      NOT NULL,
    -- The implicated adults in report order: the roster id (NULL when not on the roster), and the
    -- name and role as given ('' when absent).
    adult_ids          uuid[]      NOT NULL,
    adult_names        text[]      NOT NULL,
    adult_roles        text[]      NOT NULL,
    youngest_child_age smallint,
    occurred_from      date        NOT NULL,
    occurred_to        date        NOT NULL,
    discovered_on      date        NOT NULL,
    -- The latest of receipt, decision and correction folded in: a score as of an earlier instant
    -- must be computed from the append-only tables instead (back-tests do).
    stands_since       timestamptz NOT NULL
);
CREATE INDEX report_current_facility_idx ON report_current (facility_id, received_at, report_id);

ALTER TABLE report_current ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_current FORCE ROW LEVEL SECURITY;
CREATE POLICY report_current_read ON report_current FOR SELECT
    USING (centinela_scope_role() = 'system' OR centinela_may_see_reports_of(facility_id));
-- Writes are limited by privileges, not rows: only the owner's functions below may write.
CREATE POLICY report_current_insert ON report_current FOR INSERT WITH CHECK (true);
CREATE POLICY report_current_update ON report_current FOR UPDATE USING (true) WITH CHECK (true);
GRANT SELECT ON report_current TO centinela_service;

-- Every report received before `instant`, as it stood then: its latest decision and its latest
-- correction of each field made before `instant`, its adults and its youngest child. The fold for
-- whole tables (aggregates joined by hash), written once: report_current is filled from it at
-- 'infinity', and back-tests read it at their instant. (One transaction's few reports are folded
-- by lookups in centinela_refresh_report_current below, with the same expressions.) Inlined by the
-- planner: a plain SQL function, in the caller's scope.
CREATE FUNCTION centinela_reports_as_of(instant timestamptz)
RETURNS TABLE (
    report_id uuid, facility_id uuid, received_at timestamptz, category text, reporter_type text, status text,
    mo_tags text[], adult_ids uuid[], adult_names text[], adult_roles text[], youngest_child_age smallint,
    occurred_from date, occurred_to date, discovered_on date, stands_since timestamptz)
LANGUAGE sql STABLE AS $$
    WITH status AS (
        SELECT DISTINCT ON (s.report_id) s.report_id, s.status, s.changed_at
        FROM report_status_changes s
        WHERE s.changed_at < instant
        ORDER BY s.report_id, s.changed_at DESC, s.id DESC
    ), amended AS (
        SELECT a.report_id, max(a.amended_at) AS amended_at,
            (array_agg(a.changes->>'category' ORDER BY a.amended_at DESC, a.id DESC) FILTER (WHERE a.changes ? 'category'))[1] AS category,
            (array_agg(a.changes->'modusOperandi' ORDER BY a.amended_at DESC, a.id DESC) FILTER (WHERE a.changes ? 'modusOperandi'))[1] AS tags,
            (array_agg(a.changes->'adults' ORDER BY a.amended_at DESC, a.id DESC) FILTER (WHERE a.changes ? 'adults'))[1] AS adults,
            (array_agg(a.changes->'children' ORDER BY a.amended_at DESC, a.id DESC) FILTER (WHERE a.changes ? 'children'))[1] AS children,
            (array_agg(a.changes->'occurred' ORDER BY a.amended_at DESC, a.id DESC) FILTER (WHERE a.changes ? 'occurred'))[1] AS occurred,
            (array_agg(a.changes->>'discoveredOn' ORDER BY a.amended_at DESC, a.id DESC) FILTER (WHERE a.changes ? 'discoveredOn'))[1] AS discovered
        FROM report_amendments a
        WHERE a.amended_at < instant
        GROUP BY a.report_id
    ), implicated AS (
        SELECT ra.report_id,
               array_agg(ra.adult_id ORDER BY ra.position) AS ids,
               array_agg(coalesce(ra.mentioned_name, '') ORDER BY ra.position) AS names,
               array_agg(coalesce(ra.mentioned_role, '') ORDER BY ra.position) AS roles
        FROM report_adults ra
        GROUP BY ra.report_id
    ), youngest AS (
        SELECT rc.report_id, min(rc.age_years)::smallint AS age FROM report_children rc GROUP BY rc.report_id
    )
    SELECT r.id, r.facility_id, r.received_at,
           coalesce(am.category, r.category), r.reporter_type, coalesce(st.status, 'received'),
           CASE WHEN am.tags IS NULL THEN r.mo_tags ELSE ARRAY(SELECT jsonb_array_elements_text(am.tags)) END,
           CASE WHEN am.adults IS NULL THEN coalesce(i.ids, '{}')
                ELSE ARRAY(SELECT ad.id FROM jsonb_array_elements(am.adults) WITH ORDINALITY e(v, n)
                           LEFT JOIN adults ad ON ad.facility_id = r.facility_id AND ad.staff_ref = e.v->>'staffRef'
                           ORDER BY e.n) END,
           CASE WHEN am.adults IS NULL THEN coalesce(i.names, '{}')
                ELSE ARRAY(SELECT coalesce(e.v->>'name', '') FROM jsonb_array_elements(am.adults) WITH ORDINALITY e(v, n) ORDER BY e.n) END,
           CASE WHEN am.adults IS NULL THEN coalesce(i.roles, '{}')
                ELSE ARRAY(SELECT coalesce(e.v->>'role', '') FROM jsonb_array_elements(am.adults) WITH ORDINALITY e(v, n) ORDER BY e.n) END,
           (CASE WHEN am.children IS NULL THEN y.age
                 ELSE (SELECT min((e->>'age')::int) FROM jsonb_array_elements(am.children) e) END)::smallint,
           coalesce((am.occurred->>'from')::date, r.occurred_from),
           coalesce((am.occurred->>'to')::date, r.occurred_to),
           coalesce(am.discovered::date, r.discovered_on),
           greatest(r.received_at, st.changed_at, am.amended_at)
    FROM incident_reports r
    LEFT JOIN status st ON st.report_id = r.id
    LEFT JOIN amended am ON am.report_id = r.id
    LEFT JOIN implicated i ON i.report_id = r.id
    LEFT JOIN youngest y ON y.report_id = r.id
    WHERE r.received_at < instant
$$;

-- Folds the given reports (NULL: every report) into report_current. Reads the append-only tables
-- in the caller's scope, which may see the reports it has just written.
CREATE FUNCTION centinela_refresh_report_current(reports uuid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET work_mem = '256MB' AS $$
BEGIN
    IF reports IS NULL THEN
        -- Every report: whole-table aggregates joined by hash, not a lookup per report.
        TRUNCATE report_current;
        INSERT INTO report_current SELECT * FROM centinela_reports_as_of('infinity');
        RETURN;
    END IF;

    -- A few reports (one transaction's): a lookup per report.
    INSERT INTO report_current AS c
    SELECT r.id, r.facility_id, r.received_at,
           coalesce(am.category, r.category), r.reporter_type, coalesce(st.status, 'received'),
           CASE WHEN am.tags IS NULL THEN r.mo_tags ELSE ARRAY(SELECT jsonb_array_elements_text(am.tags)) END,
           CASE WHEN am.adults IS NULL THEN coalesce(i.ids, '{}')
                ELSE ARRAY(SELECT ad.id FROM jsonb_array_elements(am.adults) WITH ORDINALITY e(v, n)
                           LEFT JOIN adults ad ON ad.facility_id = r.facility_id AND ad.staff_ref = e.v->>'staffRef'
                           ORDER BY e.n) END,
           CASE WHEN am.adults IS NULL THEN coalesce(i.names, '{}')
                ELSE ARRAY(SELECT coalesce(e.v->>'name', '') FROM jsonb_array_elements(am.adults) WITH ORDINALITY e(v, n) ORDER BY e.n) END,
           CASE WHEN am.adults IS NULL THEN coalesce(i.roles, '{}')
                ELSE ARRAY(SELECT coalesce(e.v->>'role', '') FROM jsonb_array_elements(am.adults) WITH ORDINALITY e(v, n) ORDER BY e.n) END,
           CASE WHEN am.children IS NULL THEN y.age
                ELSE (SELECT min((e->>'age')::int) FROM jsonb_array_elements(am.children) e) END,
           coalesce((am.occurred->>'from')::date, r.occurred_from),
           coalesce((am.occurred->>'to')::date, r.occurred_to),
           coalesce(am.discovered::date, r.discovered_on),
           greatest(r.received_at, st.changed_at, am.amended_at)
    FROM incident_reports r
    LEFT JOIN LATERAL (
        SELECT s.status, s.changed_at FROM report_status_changes s WHERE s.report_id = r.id
        ORDER BY s.changed_at DESC, s.id DESC LIMIT 1
    ) st ON true
    LEFT JOIN LATERAL (
        SELECT max(a.amended_at) AS amended_at,
            (array_agg(a.changes->>'category' ORDER BY a.amended_at DESC, a.id DESC) FILTER (WHERE a.changes ? 'category'))[1] AS category,
            (array_agg(a.changes->'modusOperandi' ORDER BY a.amended_at DESC, a.id DESC) FILTER (WHERE a.changes ? 'modusOperandi'))[1] AS tags,
            (array_agg(a.changes->'adults' ORDER BY a.amended_at DESC, a.id DESC) FILTER (WHERE a.changes ? 'adults'))[1] AS adults,
            (array_agg(a.changes->'children' ORDER BY a.amended_at DESC, a.id DESC) FILTER (WHERE a.changes ? 'children'))[1] AS children,
            (array_agg(a.changes->'occurred' ORDER BY a.amended_at DESC, a.id DESC) FILTER (WHERE a.changes ? 'occurred'))[1] AS occurred,
            (array_agg(a.changes->>'discoveredOn' ORDER BY a.amended_at DESC, a.id DESC) FILTER (WHERE a.changes ? 'discoveredOn'))[1] AS discovered
        FROM report_amendments a WHERE a.report_id = r.id
    ) am ON true
    LEFT JOIN LATERAL (
        SELECT array_agg(ra.adult_id ORDER BY ra.position) AS ids,
               array_agg(coalesce(ra.mentioned_name, '') ORDER BY ra.position) AS names,
               array_agg(coalesce(ra.mentioned_role, '') ORDER BY ra.position) AS roles
        FROM report_adults ra WHERE ra.report_id = r.id
    ) i ON true
    LEFT JOIN LATERAL (SELECT min(rc.age_years) AS age FROM report_children rc WHERE rc.report_id = r.id) y ON true
    WHERE r.id = ANY (reports)
    ON CONFLICT (report_id) DO UPDATE
        SET category = excluded.category, status = excluded.status, mo_tags = excluded.mo_tags,
            adult_ids = excluded.adult_ids, adult_names = excluded.adult_names, adult_roles = excluded.adult_roles,
            youngest_child_age = excluded.youngest_child_age, occurred_from = excluded.occurred_from,
            occurred_to = excluded.occurred_to, discovered_on = excluded.discovered_on, stands_since = excluded.stands_since;
END;
$$;
REVOKE ALL ON FUNCTION centinela_refresh_report_current(uuid[]) FROM PUBLIC;

-- Once per statement, with the statement's rows: a report and its parts are written in a few
-- statements, a bulk load in one.
CREATE FUNCTION centinela_report_current_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_TABLE_NAME = 'incident_reports' THEN
        PERFORM centinela_refresh_report_current(ARRAY(SELECT id FROM written));
    ELSE
        PERFORM centinela_refresh_report_current(ARRAY(SELECT DISTINCT report_id FROM written));
    END IF;
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION centinela_report_current_follow() FROM PUBLIC;
CREATE TRIGGER incident_reports_current AFTER INSERT ON incident_reports
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION centinela_report_current_follow();
CREATE TRIGGER report_adults_current AFTER INSERT ON report_adults
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION centinela_report_current_follow();
CREATE TRIGGER report_children_current AFTER INSERT ON report_children
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION centinela_report_current_follow();
CREATE TRIGGER report_status_changes_current AFTER INSERT ON report_status_changes
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION centinela_report_current_follow();
CREATE TRIGGER report_amendments_current AFTER INSERT ON report_amendments
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION centinela_report_current_follow();

-- The reports already stored, read in the system scope (which sees them all).
SELECT set_config('centinela.role', 'system', true);
SELECT centinela_refresh_report_current(NULL);
SELECT set_config('centinela.role', '', true);
-- Statistics now: the worker's per-facility reads are planned from them (without, a scan of
-- every report per round until autovacuum came by).
ANALYZE report_current;

-- Scores: the JSON exactly as computed (canonical, byte for byte: json keeps text, jsonb would
-- re-order it and cost a parse per write), compressed with lz4 where the server has it; and a
-- fingerprint of what makes a score a change (points, bands, model, jurisdiction, manual band), so
-- that a run skips unchanged facilities before sending them. Scores recorded before this
-- migration have no fingerprint: the next run records each once more, in canonical form.
ALTER TABLE risk_scores DROP CONSTRAINT risk_scores_assessment_check;
ALTER TABLE risk_scores ALTER COLUMN assessment TYPE json USING assessment::json;
ALTER TABLE risk_scores ADD CONSTRAINT risk_scores_assessment_check CHECK (json_typeof(assessment) = 'object');
ALTER TABLE risk_scores ADD COLUMN fingerprint bigint;
ALTER TABLE risk_score_history ALTER COLUMN assessment TYPE json USING assessment::json;
ALTER TABLE backtest_scores ALTER COLUMN assessment TYPE json USING assessment::json;
DO $$
BEGIN
    ALTER TABLE risk_scores ALTER COLUMN assessment SET COMPRESSION lz4;
    ALTER TABLE risk_score_history ALTER COLUMN assessment SET COMPRESSION lz4;
    ALTER TABLE backtest_scores ALTER COLUMN assessment SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this server has no lz4: scores stay compressed with pglz';
END;
$$;
