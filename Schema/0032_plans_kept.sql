-- 0032_plans_kept: the functions every report goes through keep their plans (issue 24).
--
-- Measured under the ingest bench (pg_stat_statements with track_planning, 20 s at 32 clients):
-- PostgreSQL spent more time planning than executing on the report path. A LANGUAGE sql function
-- that cannot be inlined is planned again at every call (PostgreSQL 15 keeps no plan between
-- calls): centinela_authenticate, once a request (0.32 ms each, 3.5 s of the 20), and
-- centinela_may_see_reports_of, which the policies of reports and their parts call on each row
-- written (planned once a statement: 2.7 s). A PL/pgSQL function keeps its statements' plans for
-- the session. The bodies are the same queries: who is authenticated and who may see which report
-- is unchanged.

CREATE OR REPLACE FUNCTION centinela_authenticate(presented_sha256 bytea)
RETURNS TABLE (token_id uuid, holder text, role text, facility_ids uuid[], jurisdiction_ids uuid[])
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    RETURN QUERY
    WITH RECURSIVE token AS (
        SELECT t.id, t.holder, t.role
        FROM api_tokens t
        WHERE t.secret_sha256 = presented_sha256
          AND t.revoked_at IS NULL
          AND (t.expires_at IS NULL OR t.expires_at > now())
    ), scope(id) AS (
        SELECT tj.jurisdiction_id FROM api_token_jurisdictions tj JOIN token ON tj.token_id = token.id
        UNION
        SELECT j.id FROM jurisdictions j JOIN scope ON j.parent_id = scope.id
    )
    SELECT token.id, token.holder, token.role,
           coalesce((SELECT array_agg(tf.facility_id ORDER BY tf.facility_id)
                     FROM api_token_facilities tf WHERE tf.token_id = token.id), '{}'),
           coalesce((SELECT array_agg(scope.id ORDER BY scope.id) FROM scope), '{}')
    FROM token;
END;
$$;

CREATE OR REPLACE FUNCTION centinela_may_see_reports_of(facility uuid) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN CASE centinela_scope_role()
        WHEN 'school' THEN facility = ANY (centinela_scope_facilities())
        WHEN 'regulator' THEN EXISTS (
            SELECT 1 FROM facilities f
            WHERE f.id = facility AND f.jurisdiction_id = ANY (centinela_scope_jurisdictions()))
        ELSE false
    END;
END;
$$;

-- A report's current row is derived by one INSERT over a few reports' ids (a transaction's, or a
-- group's): PostgreSQL chose a custom plan at four calls in five, each planned anew (2.3 s of the
-- 20). The plan is the same whatever the ids — an index lookup per report and per part — so the
-- generic one is kept. (Every report at once, after a load, is the function's other statement.)
ALTER FUNCTION centinela_refresh_report_current(uuid[]) SET plan_cache_mode = force_generic_plan;
-- Likewise the rescore request of each facility among a few reports (0016), planned anew each time.
ALTER FUNCTION centinela_finish_bulk_write(uuid[]) SET plan_cache_mode = force_generic_plan;

-- Reports filed together are now written as a bulk write is (centinela_finish_bulk_write, 0016:
-- their current rows and one rescore request per facility, after their parts), not by a trigger
-- call and a rescore request per report; the group's own fold (0031) has no caller left.
DROP FUNCTION centinela_fold_new_reports(uuid[]);
