-- 0034_reports_written_in_one_call: a group of reports — the intake's, an import's chunk — is
-- written by one function call instead of five statements (issue 24).
--
-- Sent on their own, the group's statements were parsed and planned anew at every group (under
-- the ingest bench the adults' and children's inserts spent 1.8 s of a 20 s run being planned,
-- docs/performance.md, session 22), and each was a round trip. Inside PL/pgSQL the same statements
-- keep their plans for the session; generic ones, since the arrays' lengths change nothing in
-- them. The function runs as its caller: row-level security checks every row as before, and a
-- refusal (a facility not the caller's, a key reused) raises the same error.
--
-- The reports are written as a bulk write (0016): their current rows and one rescore request per
-- facility at the end (centinela_finish_bulk_write), not by the triggers once a statement. Absent
-- values travel as '' (arrays of NULLs do not bind from the service), and a report filed here
-- (no source system) is received now, whatever its `received` entry says.
CREATE FUNCTION centinela_write_reports(
    ids uuid[], facilities uuid[], received timestamptz[], occurred_from text[], occurred_to text[],
    approximate boolean[], discovered text[], categories text[], reporters text[], tags text[], narratives text[],
    systems text[], sources text[], submitted_by uuid,
    adult_reports uuid[], adult_positions int[], adult_ids text[], adult_names text[], adult_roles text[],
    child_reports uuid[], child_refs text[], child_ages int[],
    decision_reports uuid[], decision_statuses text[], decision_reasons text[], decision_at timestamptz[])
RETURNS timestamptz
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    PERFORM set_config('centinela.bulk_write', 'on', true);
    INSERT INTO incident_reports
        (id, facility_id, received_at, occurred_from, occurred_to, occurred_approximate, discovered_on, category,
         reporter_type, mo_tags, narrative, submitted_by, source_system, source_id, imported_at)
    SELECT x.id, x.f, CASE WHEN x.system = '' THEN now() ELSE x.received END, x.o1::date, x.o2::date, x.a, x.d::date,
           x.c, x.r, coalesce(string_to_array(nullif(x.t, ''), ','), '{}'), x.n, submitted_by,
           nullif(x.system, ''), nullif(x.source, ''), CASE WHEN x.system = '' THEN NULL ELSE now() END
    FROM unnest(ids, facilities, received, occurred_from, occurred_to, approximate, discovered, categories, reporters,
                tags, narratives, systems, sources) AS x(id, f, received, o1, o2, a, d, c, r, t, n, system, source);
    IF cardinality(adult_reports) > 0 THEN
        INSERT INTO report_adults (report_id, position, adult_id, mentioned_name, mentioned_role)
        SELECT x.r, x.p, nullif(x.a, '')::uuid, nullif(x.n, ''), nullif(x.o, '')
        FROM unnest(adult_reports, adult_positions, adult_ids, adult_names, adult_roles) AS x(r, p, a, n, o);
    END IF;
    IF cardinality(child_reports) > 0 THEN
        INSERT INTO report_children (report_id, child_ref, age_years)
        SELECT x.r, x.c, x.a FROM unnest(child_reports, child_refs, child_ages) AS x(r, c, a);
    END IF;
    IF cardinality(decision_reports) > 0 THEN
        INSERT INTO report_status_changes (report_id, status, reason, changed_at, changed_by)
        SELECT x.r, x.s, nullif(x.reason, ''), x.at, submitted_by
        FROM unnest(decision_reports, decision_statuses, decision_reasons, decision_at) AS x(r, s, reason, at);
    END IF;
    PERFORM centinela_finish_bulk_write(ids);
    PERFORM set_config('centinela.bulk_write', 'off', true);
    RETURN now();
END;
$$;
REVOKE ALL ON FUNCTION centinela_write_reports(
    uuid[], uuid[], timestamptz[], text[], text[], boolean[], text[], text[], text[], text[], text[], text[], text[], uuid,
    uuid[], int[], text[], text[], text[], uuid[], text[], int[], uuid[], text[], text[], timestamptz[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION centinela_write_reports(
    uuid[], uuid[], timestamptz[], text[], text[], boolean[], text[], text[], text[], text[], text[], text[], text[], uuid,
    uuid[], int[], text[], text[], text[], uuid[], text[], int[], uuid[], text[], text[], timestamptz[]) TO centinela_service;
