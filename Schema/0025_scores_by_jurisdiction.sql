-- 0025_scores_by_jurisdiction: a regulator's read of risk scores checks the score's own
-- jurisdiction, kept equal to its facility's in the transaction that moves the facility; and the
-- columns a list shows are read from an index.
--
-- Since 0022 a regulator's score rows were those whose facility lies in scope, which PostgreSQL
-- evaluates by building the hashed set of every facility in scope for each statement: ~200 ms for
-- a national regulator (250,000 facilities) even to read one facility's score, and the console's
-- facility page made several such reads (731 ms at national scale, issue 23). Each score row
-- carries its facility's jurisdiction (risk_scores.jurisdiction_id, written by rescoring for the
-- ranking's index); the policy now reads that column. It was true only as of the last rescoring:
-- a facility moved to another jurisdiction kept its score in the old one until the move's own
-- rescoring (seconds). The trigger below moves the score with the facility, in the same
-- transaction, and rescoring writes the facility's jurisdiction as of its write, not as of its
-- read (ScoreStore.writeLive). What is left: a facility scored for the first time while it is
-- being moved keeps its old jurisdiction until the move's own rescoring, seconds later.

CREATE FUNCTION centinela_score_follows_facility() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    -- The caller's scope, restored below: risk_scores is written only in the system scope (its
    -- forced write policy binds this function's owner too), and only for this one statement.
    caller_scope text := current_setting('centinela.role', true);
BEGIN
    PERFORM set_config('centinela.role', 'system', true);
    UPDATE risk_scores SET jurisdiction_id = NEW.jurisdiction_id WHERE facility_id = NEW.id;
    PERFORM set_config('centinela.role', coalesce(caller_scope, ''), true);
    RETURN NULL;
END;
$$;
CREATE TRIGGER facilities_score_follows AFTER UPDATE OF jurisdiction_id ON facilities
    FOR EACH ROW WHEN (OLD.jurisdiction_id IS DISTINCT FROM NEW.jurisdiction_id)
    EXECUTE FUNCTION centinela_score_follows_facility();

-- Scores written before this migration for facilities moved since.
SELECT set_config('centinela.role', 'system', true);
UPDATE risk_scores s SET jurisdiction_id = f.jurisdiction_id
FROM facilities f WHERE f.id = s.facility_id AND s.jurisdiction_id IS DISTINCT FROM f.jurisdiction_id;
SELECT set_config('centinela.role', '', true);

ALTER POLICY risk_scores_read ON risk_scores USING (
    CASE (SELECT centinela_scope_role())
        WHEN 'system' THEN true
        WHEN 'school' THEN facility_id = ANY ((SELECT centinela_scope_facilities())::uuid[])
        WHEN 'regulator' THEN jurisdiction_id = ANY ((SELECT centinela_scope_jurisdictions())::uuid[])
        ELSE false
    END);

-- A list of facilities with their scores (a state's schools by score, the ranking, the
-- dashboards) reads these columns for thousands of facilities. A score row is ~2 kB, most of it
-- the assessment kept inline (just under the 2 kB at which PostgreSQL would move it out), so
-- reading them from the table touched ~66,000 pages nationally; from this index, a few hundred.
CREATE INDEX risk_scores_brief_idx ON risk_scores (facility_id) INCLUDE (jurisdiction_id, score, total, band, model_band, as_of);
