-- 0009_linked_evidence: what linking feeds into risk scores and alerts (docs/linking.md, "What
-- linking feeds").
--
-- Each rebuild writes, for every key under which a linked person appears at a facility, the key to
-- count them under there and the other facilities where the same person is implicated or on the
-- roster (computed by the service: Sources/CentinelaCore/Linking/LinkedAdults.swift). The risk
-- evidence reader reads it beside the patterns, and the facilities whose ties changed are marked
-- for rescoring, so that CROSS_FACILITY points and the cross-facility alerts follow each rebuild.

-- The key risk evidence uses for a record ('adult:<roster id>' or 'described:<hash of name and
-- role>'), written by each rebuild.
ALTER TABLE adult_records ADD COLUMN adult_key text CHECK (adult_key ~ '^(adult|described):[0-9a-f-]+$');

-- Runs are full rebuilds or updates (what arrived since the last run, linked against the rest).
ALTER TABLE linking_runs ADD COLUMN kind text NOT NULL DEFAULT 'rebuild' CHECK (kind IN ('rebuild', 'update'));

CREATE TABLE linked_adults (
    facility_id          uuid    NOT NULL REFERENCES facilities (id),
    adult_key            text    NOT NULL,
    -- The key to count the person under at this facility: their roster key when they are on it.
    counting_key         text    NOT NULL,
    implicated_here      boolean NOT NULL,
    -- Other facilities where a report names the same person.
    implicated_elsewhere uuid[]  NOT NULL,
    -- Other facilities holding the person on their roster without a report naming them there.
    rostered_elsewhere   uuid[]  NOT NULL,
    PRIMARY KEY (facility_id, adult_key)
);
ALTER TABLE linked_adults ENABLE ROW LEVEL SECURITY;
ALTER TABLE linked_adults FORCE ROW LEVEL SECURITY;
CREATE POLICY linked_adults_system ON linked_adults FOR ALL
    USING ((SELECT centinela_scope_role()) = 'system') WITH CHECK ((SELECT centinela_scope_role()) = 'system');
GRANT SELECT, INSERT, DELETE ON linked_adults TO centinela_service;

-- A pattern spanning three or more facilities alerts each facility's regulators.
ALTER TABLE alerts DROP CONSTRAINT alerts_rule_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_rule_check CHECK (rule IN (
    'band', 'several_adults_severe', 'filming', 'sexual_abuse_under_six', 'adult_several_facilities', 'adult_repeat',
    'pattern_several_facilities'));

-- Marks facilities for rescoring after a linking rebuild changed what ties them to others. Only the
-- system scope may; the mark table itself stays out of the service role's reach (Schema/0003).
CREATE FUNCTION centinela_mark_facilities_for_rescore(facilities uuid[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    marked integer := 0;
    facility uuid;
BEGIN
    IF centinela_scope_role() IS DISTINCT FROM 'system' THEN
        RAISE EXCEPTION 'rescore marks are for the system scope' USING ERRCODE = 'insufficient_privilege';
    END IF;
    FOR facility IN SELECT DISTINCT f.id FROM facilities f WHERE f.id = ANY (facilities) ORDER BY f.id LOOP
        PERFORM centinela_mark_for_rescore(facility);
        marked := marked + 1;
    END LOOP;
    RETURN marked;
END;
$$;
REVOKE ALL ON FUNCTION centinela_mark_facilities_for_rescore(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION centinela_mark_facilities_for_rescore(uuid[]) TO centinela_service;
