-- 0003_risk: facility risk scores, their history, rescoring marks and runs, manual band overrides.
--
-- Scores are computed by the service (Sources/CentinelaCore/Risk, docs/risk-model.md), never in SQL:
-- these tables only keep what was computed, why, and what still needs computing.

-- Scoring reads every facility's reports: it works in its own scope, 'system', which may read
-- report data but never write it (the restrictive policies below), and is the only scope that
-- writes scores.
CREATE POLICY facilities_system_read ON facilities FOR SELECT USING (centinela_scope_role() = 'system');
CREATE POLICY adults_system_read ON adults FOR SELECT USING (centinela_scope_role() = 'system');
CREATE POLICY incident_reports_system_read ON incident_reports FOR SELECT USING (centinela_scope_role() = 'system');
CREATE POLICY report_adults_system_read ON report_adults FOR SELECT USING (centinela_scope_role() = 'system');
CREATE POLICY report_children_system_read ON report_children FOR SELECT USING (centinela_scope_role() = 'system');
CREATE POLICY report_amendments_system_read ON report_amendments FOR SELECT USING (centinela_scope_role() = 'system');
CREATE POLICY report_status_changes_system_read ON report_status_changes FOR SELECT
    USING (centinela_scope_role() = 'system');
CREATE POLICY report_adults_no_system_write ON report_adults AS RESTRICTIVE FOR INSERT
    WITH CHECK (centinela_scope_role() IS DISTINCT FROM 'system');
CREATE POLICY report_children_no_system_write ON report_children AS RESTRICTIVE FOR INSERT
    WITH CHECK (centinela_scope_role() IS DISTINCT FROM 'system');
CREATE POLICY report_amendments_no_system_write ON report_amendments AS RESTRICTIVE FOR INSERT
    WITH CHECK (centinela_scope_role() IS DISTINCT FROM 'system');

-- The current score of each facility: one row, replaced when the score, band or reasons change.
CREATE TABLE risk_scores (
    facility_id     uuid          PRIMARY KEY REFERENCES facilities (id),
    -- The facility's jurisdiction when scored, for "top N in a jurisdiction" (a move re-scores).
    jurisdiction_id uuid          NOT NULL REFERENCES jurisdictions (id),
    model_id        text          NOT NULL CHECK (length(model_id) BETWEEN 1 AND 40),
    -- The instant the score is computed for: reports received before it count.
    as_of           timestamptz   NOT NULL,
    score           numeric(4, 1) NOT NULL CHECK (score BETWEEN 0 AND 100),
    total           numeric(6, 1) NOT NULL CHECK (total >= 0),
    band            text          NOT NULL CHECK (band IN ('low', 'elevated', 'high', 'critical')),
    model_band      text          NOT NULL CHECK (model_band IN ('low', 'elevated', 'high', 'critical')),
    -- The decayed incident load before peer adjustment: peer baselines are medians of it.
    load            double precision NOT NULL CHECK (load >= 0),
    -- {"LOAD": 12.5, ...}: the points per factor, for queries; `assessment` has the reasons.
    points          jsonb         NOT NULL CHECK (jsonb_typeof(points) = 'object'),
    assessment      jsonb         NOT NULL CHECK (jsonb_typeof(assessment) = 'object'),
    recorded_at     timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX risk_scores_jurisdiction_score_idx ON risk_scores (jurisdiction_id, score DESC, facility_id);
CREATE INDEX risk_scores_score_idx ON risk_scores (score DESC, facility_id);
CREATE INDEX risk_scores_band_idx ON risk_scores (band, score DESC) WHERE band <> 'low';

-- Every change of a facility's score or band, appended and never altered.
CREATE TABLE risk_score_history (
    id          bigint        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    facility_id uuid          NOT NULL REFERENCES facilities (id),
    model_id    text          NOT NULL,
    as_of       timestamptz   NOT NULL,
    score       numeric(4, 1) NOT NULL,
    total       numeric(6, 1) NOT NULL,
    band        text          NOT NULL,
    model_band  text          NOT NULL,
    points      jsonb         NOT NULL,
    assessment  jsonb         NOT NULL,
    recorded_at timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX risk_score_history_facility_idx ON risk_score_history (facility_id, as_of DESC, id DESC);
CREATE TRIGGER risk_score_history_append_only BEFORE UPDATE OR DELETE ON risk_score_history
    FOR EACH ROW EXECUTE FUNCTION refuse_change_to_append_only();

-- Peers' median load per 100 children, by facility kind and jurisdiction, published at the end of
-- each full rescoring run and used by every computation after it.
CREATE TABLE risk_peer_baselines (
    kind                     text             NOT NULL,
    jurisdiction_id          uuid             NOT NULL REFERENCES jurisdictions (id),
    load_per_hundred         double precision NOT NULL CHECK (load_per_hundred >= 0),
    peers                    integer          NOT NULL CHECK (peers > 0),
    computed_at              timestamptz      NOT NULL,
    PRIMARY KEY (kind, jurisdiction_id)
);

-- Runs of `centinela rescore`: full, one facility, or a back-test as of a past date.
CREATE TABLE rescore_runs (
    id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    kind                text        NOT NULL CHECK (kind IN ('full', 'facility', 'backtest')),
    as_of               timestamptz NOT NULL,
    model_id            text        NOT NULL,
    facility_id         uuid        REFERENCES facilities (id),
    started_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at         timestamptz,
    outcome             text        NOT NULL DEFAULT 'running'
                                    CHECK (outcome IN ('running', 'succeeded', 'failed')),
    facilities_scored   integer     NOT NULL DEFAULT 0,
    facilities_changed  integer     NOT NULL DEFAULT 0,
    failures            integer     NOT NULL DEFAULT 0,
    error               text        CHECK (length(error) <= 2000)
);
CREATE INDEX rescore_runs_started_idx ON rescore_runs (started_at DESC);

-- Back-tests: scores as they would have been at a past instant, kept apart from the live ones.
CREATE TABLE backtest_scores (
    run_id      uuid          NOT NULL REFERENCES rescore_runs (id),
    facility_id uuid          NOT NULL REFERENCES facilities (id),
    score       numeric(4, 1) NOT NULL,
    band        text          NOT NULL,
    model_band  text          NOT NULL,
    points      jsonb         NOT NULL,
    assessment  jsonb         NOT NULL,
    PRIMARY KEY (run_id, facility_id)
);
CREATE INDEX backtest_scores_rank_idx ON backtest_scores (run_id, score DESC, facility_id);

-- Regulators' manual bands, appended; the latest row per facility is in force until it expires.
-- A row without a band clears the previous override.
CREATE TABLE risk_band_overrides (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    facility_id uuid        NOT NULL REFERENCES facilities (id),
    band        text        CHECK (band IN ('low', 'elevated', 'high', 'critical')),
    reason      text        NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 2000),
    expires_at  timestamptz,
    set_by      uuid        REFERENCES api_tokens (id),
    set_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((band IS NULL) = (expires_at IS NULL)),
    CHECK (expires_at IS NULL OR expires_at > set_at)
);
CREATE INDEX risk_band_overrides_facility_idx ON risk_band_overrides (facility_id, set_at DESC, id DESC);
CREATE TRIGGER risk_band_overrides_append_only BEFORE UPDATE OR DELETE ON risk_band_overrides
    FOR EACH ROW EXECUTE FUNCTION refuse_change_to_append_only();

-- Facilities whose score may be stale. Written in the same transaction as the report (or
-- decision, correction, override) that makes it stale, so a crash between commit and rescoring
-- loses nothing; `generation` lets the worker delete only a mark it has fully handled.
CREATE TABLE rescore_marks (
    facility_id uuid        PRIMARY KEY REFERENCES facilities (id),
    generation  bigint      NOT NULL DEFAULT 1,
    marked_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE FUNCTION centinela_mark_for_rescore(facility uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    fresh boolean;
BEGIN
    INSERT INTO rescore_marks AS m (facility_id) VALUES (facility)
    ON CONFLICT (facility_id) DO UPDATE SET generation = m.generation + 1, marked_at = clock_timestamp()
    RETURNING m.generation = 1 INTO fresh;
    -- Only a new mark wakes the worker: a pending one will be seen anyway, and NOTIFY serialises
    -- the commits of the transactions that send it. Delivered at commit; the worker also polls,
    -- so a lost notification only delays.
    IF fresh THEN
        PERFORM pg_notify('centinela_rescore', facility::text);
    END IF;
END;
$$;
REVOKE ALL ON FUNCTION centinela_mark_for_rescore(uuid) FROM PUBLIC;

CREATE FUNCTION centinela_mark_report_facility() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_TABLE_NAME IN ('incident_reports', 'risk_band_overrides') THEN
        PERFORM centinela_mark_for_rescore(NEW.facility_id);
    ELSIF TG_TABLE_NAME = 'facilities' THEN
        PERFORM centinela_mark_for_rescore(NEW.id);
    ELSE
        PERFORM centinela_mark_for_rescore(r.facility_id) FROM incident_reports r WHERE r.id = NEW.report_id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER incident_reports_mark AFTER INSERT ON incident_reports
    FOR EACH ROW EXECUTE FUNCTION centinela_mark_report_facility();
CREATE TRIGGER report_status_changes_mark AFTER INSERT ON report_status_changes
    FOR EACH ROW EXECUTE FUNCTION centinela_mark_report_facility();
CREATE TRIGGER report_amendments_mark AFTER INSERT ON report_amendments
    FOR EACH ROW EXECUTE FUNCTION centinela_mark_report_facility();
CREATE TRIGGER risk_band_overrides_mark AFTER INSERT ON risk_band_overrides
    FOR EACH ROW EXECUTE FUNCTION centinela_mark_report_facility();
CREATE TRIGGER facilities_mark_new AFTER INSERT ON facilities
    FOR EACH ROW EXECUTE FUNCTION centinela_mark_report_facility();
CREATE TRIGGER facilities_mark_changed AFTER UPDATE OF kind, jurisdiction_id, enrolment ON facilities
    FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind OR OLD.jurisdiction_id IS DISTINCT FROM NEW.jurisdiction_id
                       OR OLD.enrolment IS DISTINCT FROM NEW.enrolment)
    EXECUTE FUNCTION centinela_mark_report_facility();

-- Who may read scores: whoever may read the facility's reports. Only the system scope writes them.
ALTER TABLE risk_scores ENABLE ROW LEVEL SECURITY;
ALTER TABLE risk_scores FORCE ROW LEVEL SECURITY;
CREATE POLICY risk_scores_read ON risk_scores FOR SELECT
    USING (centinela_scope_role() = 'system' OR centinela_may_see_reports_of(facility_id));
CREATE POLICY risk_scores_write ON risk_scores FOR ALL
    USING (centinela_scope_role() = 'system') WITH CHECK (centinela_scope_role() = 'system');

ALTER TABLE risk_score_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE risk_score_history FORCE ROW LEVEL SECURITY;
CREATE POLICY risk_score_history_read ON risk_score_history FOR SELECT
    USING (centinela_scope_role() = 'system' OR centinela_may_see_reports_of(facility_id));
CREATE POLICY risk_score_history_write ON risk_score_history FOR INSERT WITH CHECK (centinela_scope_role() = 'system');

ALTER TABLE risk_band_overrides ENABLE ROW LEVEL SECURITY;
ALTER TABLE risk_band_overrides FORCE ROW LEVEL SECURITY;
CREATE POLICY risk_band_overrides_read ON risk_band_overrides FOR SELECT
    USING (centinela_scope_role() = 'system' OR centinela_may_see_reports_of(facility_id));
-- Only a regulator of the facility's jurisdiction sets or clears a manual band.
CREATE POLICY risk_band_overrides_insert ON risk_band_overrides FOR INSERT
    WITH CHECK (centinela_scope_role() = 'regulator' AND centinela_may_see_reports_of(facility_id));

ALTER TABLE risk_peer_baselines ENABLE ROW LEVEL SECURITY;
ALTER TABLE risk_peer_baselines FORCE ROW LEVEL SECURITY;
CREATE POLICY risk_peer_baselines_system ON risk_peer_baselines FOR ALL
    USING (centinela_scope_role() = 'system') WITH CHECK (centinela_scope_role() = 'system');

ALTER TABLE rescore_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE rescore_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY rescore_runs_system ON rescore_runs FOR ALL
    USING (centinela_scope_role() = 'system') WITH CHECK (centinela_scope_role() = 'system');

ALTER TABLE backtest_scores ENABLE ROW LEVEL SECURITY;
ALTER TABLE backtest_scores FORCE ROW LEVEL SECURITY;
CREATE POLICY backtest_scores_read ON backtest_scores FOR SELECT
    USING (centinela_scope_role() = 'system' OR (centinela_scope_role() = 'regulator' AND centinela_may_see_reports_of(facility_id)));
CREATE POLICY backtest_scores_write ON backtest_scores FOR INSERT WITH CHECK (centinela_scope_role() = 'system');

-- Marks are written by the triggers above (with their owner's rights, whoever the caller is) and
-- read and cleared only through these two functions, by the system scope: the service role has
-- no rights on the table itself.
CREATE FUNCTION centinela_pending_rescores(max_marks integer)
RETURNS TABLE (facility_id uuid, generation bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF centinela_scope_role() IS DISTINCT FROM 'system' THEN
        RAISE EXCEPTION 'rescore marks are for the system scope' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY SELECT m.facility_id, m.generation FROM rescore_marks m ORDER BY m.marked_at, m.facility_id LIMIT max_marks;
END;
$$;

-- Deletes the marks that were not renewed since they were read; returns how many.
CREATE FUNCTION centinela_clear_rescores(facilities uuid[], generations bigint[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    cleared integer;
BEGIN
    IF centinela_scope_role() IS DISTINCT FROM 'system' THEN
        RAISE EXCEPTION 'rescore marks are for the system scope' USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM rescore_marks m USING unnest(facilities, generations) AS done(facility_id, generation)
    WHERE m.facility_id = done.facility_id AND m.generation = done.generation;
    GET DIAGNOSTICS cleared = ROW_COUNT;
    RETURN cleared;
END;
$$;
REVOKE ALL ON FUNCTION centinela_pending_rescores(integer), centinela_clear_rescores(uuid[], bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION centinela_pending_rescores(integer), centinela_clear_rescores(uuid[], bigint[])
    TO centinela_service;

GRANT SELECT, INSERT, UPDATE ON risk_scores TO centinela_service;
GRANT SELECT, INSERT ON risk_score_history, risk_band_overrides, backtest_scores TO centinela_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON risk_peer_baselines TO centinela_service;
GRANT SELECT, INSERT, UPDATE ON rescore_runs TO centinela_service;
