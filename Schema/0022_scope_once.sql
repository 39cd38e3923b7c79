-- 0022_scope_once: the read policies of facilities and risk scores read the caller's scope once per
-- statement, not once per row.
--
-- Through centinela_may_see_facility / centinela_may_see_reports_of, every row re-read the scope
-- settings (`current_setting(...)::uuid[]`, parsing the list of jurisdictions each time) and, for a
-- score, looked its facility up again: a regulator's ranking (`GET /v1/facilities?sort=-score`),
-- which must look at every facility in scope, took 0.31 s on 3,000 facilities, and under 32 clients
-- the service answered 31 requests a second (bench/soak). Written in the policies themselves, each
-- scope value is a sub-select PostgreSQL computes once (an InitPlan), and a regulator's facilities
-- are one hashed set: 20 ms. Who may read which row is unchanged (the functions stay, for the
-- other tables' policies).

ALTER POLICY facilities_read ON facilities USING (
    CASE (SELECT centinela_scope_role())
        WHEN 'admin' THEN true
        WHEN 'regulator' THEN jurisdiction_id = ANY ((SELECT centinela_scope_jurisdictions())::uuid[])
        WHEN 'school' THEN id = ANY ((SELECT centinela_scope_facilities())::uuid[])
        ELSE false
    END);
ALTER POLICY risk_scores_read ON risk_scores USING (
    CASE (SELECT centinela_scope_role())
        WHEN 'system' THEN true
        WHEN 'school' THEN facility_id = ANY ((SELECT centinela_scope_facilities())::uuid[])
        WHEN 'regulator' THEN facility_id IN (
            SELECT f.id FROM facilities f WHERE f.jurisdiction_id = ANY ((SELECT centinela_scope_jurisdictions())::uuid[]))
        ELSE false
    END);
