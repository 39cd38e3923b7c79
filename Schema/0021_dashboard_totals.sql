-- 0021_dashboard_totals: the dashboards rank facilities by their total, as the API does.
--
-- The displayed score stops at 100 while the total (the factors' points) goes on: ranked by score,
-- every facility at 100 tied and the tie was broken by name, so "the 25 highest" showed the
-- alphabetically first of the critical facilities and left the worst ones out (issue 21, item 9).
-- Each view gets the total as a new last column (CREATE OR REPLACE VIEW may only add columns at
-- the end); the owner's rights are widened to that one column.

GRANT SELECT (total) ON risk_scores TO centinela_dashboard_views;
GRANT SELECT (total) ON risk_score_history TO centinela_dashboard_views;

CREATE OR REPLACE VIEW dashboard.facility_risk AS
SELECT f.facility_id, f.external_code, f.name, f.kind, f.jurisdiction_code, f.jurisdiction_name,
       f.region_code, f.region_name,
       s.score, s.band, s.model_band, s.as_of, s.recorded_at AS scored_at,
       (SELECT p.key FROM jsonb_each_text(s.points) AS p
        WHERE p.value::numeric > 0 ORDER BY p.value::numeric DESC, p.key LIMIT 1) AS top_reason,
       (SELECT max(p.value::numeric) FROM jsonb_each_text(s.points) AS p WHERE p.value::numeric > 0) AS top_reason_points,
       (SELECT r ->> 'summary' FROM json_array_elements(s.assessment -> 'reasons') AS r
        WHERE (r ->> 'points')::numeric > 0
        ORDER BY (r ->> 'points')::numeric DESC, r ->> 'code' LIMIT 1) AS top_reason_summary,
       s.total
FROM risk_scores s
JOIN dashboard.facilities f ON f.facility_id = s.facility_id;

CREATE OR REPLACE VIEW dashboard.score_changes AS
SELECT h.facility_id, f.external_code, f.name, f.region_code, h.score, h.band, h.recorded_at, h.total
FROM risk_score_history h
JOIN dashboard.facilities f ON f.facility_id = h.facility_id;
