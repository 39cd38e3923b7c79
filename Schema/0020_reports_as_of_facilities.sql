-- 0020_reports_as_of_facilities: the fold of the reports as they stood at an instant, for a few
-- facilities only. A back-test of the whole country folds every report (as before, with NULL);
-- evaluating how soon a model flags a ring (`centinela evaluate --time-to-flag`) asks for a
-- ring's facilities at many instants, and folding the country each time made that impractical at
-- national scale (10-20 s a step). The reports are looked up by id (`= ANY (ARRAY(…))`: an index
-- scan of each table), not filtered by a hashed subquery (a scan of each table). The one-argument
-- form stays, for what already calls it.
CREATE FUNCTION centinela_reports_as_of(instant timestamptz, only_facilities uuid[])
RETURNS TABLE (
    report_id uuid, facility_id uuid, received_at timestamptz, category text, reporter_type text, status text,
    mo_tags text[], adult_ids uuid[], adult_names text[], adult_roles text[], youngest_child_age smallint,
    occurred_from date, occurred_to date, discovered_on date, stands_since timestamptz)
LANGUAGE sql STABLE AS $$
    WITH status AS (
        SELECT DISTINCT ON (s.report_id) s.report_id, s.status, s.changed_at
        FROM report_status_changes s
        WHERE s.changed_at < instant AND (only_facilities IS NULL OR s.report_id = ANY (ARRAY(SELECT f.id FROM incident_reports f WHERE f.facility_id = ANY (only_facilities))))
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
        WHERE a.amended_at < instant AND (only_facilities IS NULL OR a.report_id = ANY (ARRAY(SELECT f.id FROM incident_reports f WHERE f.facility_id = ANY (only_facilities))))
        GROUP BY a.report_id
    ), implicated AS (
        SELECT ra.report_id,
               array_agg(ra.adult_id ORDER BY ra.position) AS ids,
               array_agg(coalesce(ra.mentioned_name, '') ORDER BY ra.position) AS names,
               array_agg(coalesce(ra.mentioned_role, '') ORDER BY ra.position) AS roles
        FROM report_adults ra
        WHERE (only_facilities IS NULL OR ra.report_id = ANY (ARRAY(SELECT f.id FROM incident_reports f WHERE f.facility_id = ANY (only_facilities))))
        GROUP BY ra.report_id
    ), youngest AS (
        SELECT rc.report_id, min(rc.age_years)::smallint AS age FROM report_children rc
        WHERE (only_facilities IS NULL OR rc.report_id = ANY (ARRAY(SELECT f.id FROM incident_reports f WHERE f.facility_id = ANY (only_facilities))))
        GROUP BY rc.report_id
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
    WHERE r.received_at < instant AND (only_facilities IS NULL OR r.facility_id = ANY (only_facilities))
$$;

-- The one-argument form is the two-argument one for every facility (both are plain SQL and
-- inlined, so the whole-country fold plans as before).
CREATE OR REPLACE FUNCTION centinela_reports_as_of(instant timestamptz)
RETURNS TABLE (
    report_id uuid, facility_id uuid, received_at timestamptz, category text, reporter_type text, status text,
    mo_tags text[], adult_ids uuid[], adult_names text[], adult_roles text[], youngest_child_age smallint,
    occurred_from date, occurred_to date, discovered_on date, stands_since timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT * FROM centinela_reports_as_of(instant, NULL)
$$;
