-- 0010_dashboards: read-only views for the Grafana dashboards (Dashboards/), and the roles they
-- run as.
--
-- Dashboards read these views only, never the tables: the tables can change without breaking a
-- dashboard, and the views carry no narrative, no child reference, no adult (not even a
-- pseudonymous key), no token. Two roles, both without login:
--   centinela_dashboard        what a dashboard user is granted: USAGE on schema `dashboard` and
--                              SELECT on its views; nothing else (it cannot read a table).
--   centinela_dashboard_views  owns the views, so a view reads the tables with its rights: SELECT on
--                              the listed columns only (a view that names another column fails)
--                              and row-level security policies that let it read those rows.
-- A login for Grafana is made by the operator, e.g.
--   CREATE ROLE grafana LOGIN PASSWORD '…' IN ROLE centinela_dashboard;
-- (Docker/postgres/init does it in the compose deployment). It must never be made a member of
-- centinela_dashboard_views.

DO $$
BEGIN
    -- Roles belong to the whole cluster (see 0002): another database may be creating them now.
    BEGIN
        CREATE ROLE centinela_dashboard NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
    END;
    BEGIN
        CREATE ROLE centinela_dashboard_views NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
    END;
    -- The migrating user hands the views to their owner, which needs membership.
    BEGIN
        EXECUTE format('GRANT centinela_dashboard_views TO %I', current_user);
    EXCEPTION WHEN unique_violation OR duplicate_object THEN
        NULL;
    END;
END
$$;

CREATE SCHEMA dashboard;
GRANT USAGE, CREATE ON SCHEMA dashboard TO centinela_dashboard_views;
GRANT USAGE ON SCHEMA dashboard TO centinela_dashboard;

-- What the views may read: these columns, every row.
GRANT SELECT (id, code, name, level, parent_id) ON jurisdictions TO centinela_dashboard_views;
GRANT SELECT (id, external_code, name, kind, jurisdiction_id, enrolment) ON facilities TO centinela_dashboard_views;
GRANT SELECT (facility_id, as_of, score, band, model_band, points, assessment, recorded_at)
    ON risk_scores TO centinela_dashboard_views;
GRANT SELECT (facility_id, score, band, recorded_at) ON risk_score_history TO centinela_dashboard_views;
GRANT SELECT (id, rule, facility_id, jurisdiction_id, severity, status, opened_at, updated_at, resolved_at)
    ON alerts TO centinela_dashboard_views;
GRANT SELECT (id, kind, signature, facilities, reports, jurisdictions, first_received, last_received, found_at)
    ON patterns TO centinela_dashboard_views;
GRANT SELECT (report_id, facility_id, received_at, category, reporter_type, status)
    ON report_current TO centinela_dashboard_views;

CREATE POLICY jurisdictions_dashboard ON jurisdictions FOR SELECT TO centinela_dashboard_views USING (true);
CREATE POLICY facilities_dashboard ON facilities FOR SELECT TO centinela_dashboard_views USING (true);
CREATE POLICY risk_scores_dashboard ON risk_scores FOR SELECT TO centinela_dashboard_views USING (true);
CREATE POLICY risk_score_history_dashboard ON risk_score_history FOR SELECT TO centinela_dashboard_views USING (true);
CREATE POLICY alerts_dashboard ON alerts FOR SELECT TO centinela_dashboard_views USING (true);
CREATE POLICY patterns_dashboard ON patterns FOR SELECT TO centinela_dashboard_views USING (true);
CREATE POLICY report_current_dashboard ON report_current FOR SELECT TO centinela_dashboard_views USING (true);

-- Every jurisdiction with the region dashboards filter by: its state, or itself at country level.
CREATE VIEW dashboard.jurisdictions AS
SELECT j.id AS jurisdiction_id, j.code, j.name, j.level,
       CASE WHEN j.level = 'municipality' AND p.id IS NOT NULL THEN p.code ELSE j.code END AS region_code,
       CASE WHEN j.level = 'municipality' AND p.id IS NOT NULL THEN p.name ELSE j.name END AS region_name
FROM jurisdictions j
LEFT JOIN jurisdictions p ON p.id = j.parent_id;

CREATE VIEW dashboard.facilities AS
SELECT f.id AS facility_id, f.external_code, f.name, f.kind, f.enrolment,
       j.code AS jurisdiction_code, j.name AS jurisdiction_name, j.region_code, j.region_name
FROM facilities f
JOIN dashboard.jurisdictions j ON j.jurisdiction_id = f.jurisdiction_id;

-- Current scores with the factor that gives the most points and its one-sentence summary (the
-- summaries name no adult; evidence is left out). The top factor is read in scalar subqueries, not a
-- join: PostgreSQL then reads it only for the rows a dashboard keeps ("the 25 highest"), not for
-- every facility (19 s against 0.3 s nationally).
CREATE VIEW dashboard.facility_risk AS
SELECT f.facility_id, f.external_code, f.name, f.kind, f.jurisdiction_code, f.jurisdiction_name,
       f.region_code, f.region_name,
       s.score, s.band, s.model_band, s.as_of, s.recorded_at AS scored_at,
       (SELECT p.key FROM jsonb_each_text(s.points) AS p
        WHERE p.value::numeric > 0 ORDER BY p.value::numeric DESC, p.key LIMIT 1) AS top_reason,
       (SELECT max(p.value::numeric) FROM jsonb_each_text(s.points) AS p WHERE p.value::numeric > 0) AS top_reason_points,
       (SELECT r ->> 'summary' FROM json_array_elements(s.assessment -> 'reasons') AS r
        WHERE (r ->> 'points')::numeric > 0
        ORDER BY (r ->> 'points')::numeric DESC, r ->> 'code' LIMIT 1) AS top_reason_summary
FROM risk_scores s
JOIN dashboard.facilities f ON f.facility_id = s.facility_id;

-- Every recorded change of a facility's score or band.
CREATE VIEW dashboard.score_changes AS
SELECT h.facility_id, f.external_code, f.name, f.region_code, h.score, h.band, h.recorded_at
FROM risk_score_history h
JOIN dashboard.facilities f ON f.facility_id = h.facility_id;

-- Alerts without their subject, evidence or notes.
CREATE VIEW dashboard.alerts AS
SELECT a.id AS alert_id, a.rule, a.severity, a.status, a.opened_at, a.updated_at, a.resolved_at,
       f.external_code AS facility_code, f.name AS facility_name,
       j.code AS jurisdiction_code, j.name AS jurisdiction_name, j.region_code, j.region_name
FROM alerts a
JOIN dashboard.facilities f ON f.facility_id = a.facility_id
JOIN dashboard.jurisdictions j ON j.jurisdiction_id = a.jurisdiction_id;

-- Patterns without their persons; the regions of the jurisdictions they span.
CREATE VIEW dashboard.patterns AS
SELECT p.id AS pattern_id, p.kind, p.signature, p.facilities, p.reports,
       cardinality(p.jurisdictions) AS jurisdictions,
       ARRAY(SELECT DISTINCT j.region_code FROM dashboard.jurisdictions j
             WHERE j.jurisdiction_id = ANY (p.jurisdictions) ORDER BY 1) AS region_codes,
       p.first_received, p.last_received, p.found_at
FROM patterns p;

-- Reports as received (category, reporter and status only: no narrative, child or adult).
CREATE VIEW dashboard.reports AS
SELECT r.report_id, r.received_at, r.category, r.reporter_type, r.status,
       f.kind AS facility_kind, f.jurisdiction_code, f.region_code
FROM report_current r
JOIN dashboard.facilities f ON f.facility_id = r.facility_id;

ALTER VIEW dashboard.jurisdictions OWNER TO centinela_dashboard_views;
ALTER VIEW dashboard.facilities OWNER TO centinela_dashboard_views;
ALTER VIEW dashboard.facility_risk OWNER TO centinela_dashboard_views;
ALTER VIEW dashboard.score_changes OWNER TO centinela_dashboard_views;
ALTER VIEW dashboard.alerts OWNER TO centinela_dashboard_views;
ALTER VIEW dashboard.patterns OWNER TO centinela_dashboard_views;
ALTER VIEW dashboard.reports OWNER TO centinela_dashboard_views;
GRANT SELECT ON ALL TABLES IN SCHEMA dashboard TO centinela_dashboard;
