-- 0013_cases: what a regulator works on as one matter (docs/alerts.md, "Cases"; decision 31).
--
-- A facility case holds the alerts raised at one facility while it is not closed: the alerts one
-- report raises, and those open at once, are one case. A pattern case is one national case for a
-- pattern spanning facilities: it covers every facility the pattern's alerts reach and holds every
-- alert at those facilities from then on (a facility's open case joins it, closed as 'merged', and
-- so does a smaller pattern case sharing one of its facilities: a network inside a style), so
-- a ring school has one thing to open. The service files alerts into cases; regulators move a case
-- through its life (open -> acknowledged -> referred -> closed; reopened by new evidence or by a
-- regulator), every step an event.
CREATE TABLE cases (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    kind               text        NOT NULL CHECK (kind IN ('facility', 'pattern')),
    -- The facility of a facility case; the pattern of a pattern case (patterns.id, stable across
    -- rebuilds while its first report stays in it; no foreign key: a rebuild rewrites patterns).
    facility_id        uuid        REFERENCES facilities (id),
    pattern_id         uuid        UNIQUE,
    status             text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'referred', 'closed')),
    referral_reference text        CHECK (length(referral_reference) BETWEEN 1 AND 200),
    close_reason       text        CHECK (close_reason IN (
                                       'action_taken', 'referred_to_authorities', 'unfounded_after_review', 'duplicate',
                                       'facility_closed', 'merged', 'other')),
    close_note         text        CHECK (length(close_note) <= 5000),
    -- A case closed as merged: the case it joined (whose alerts and facilities it now holds).
    merged_into        uuid        REFERENCES cases (id),
    -- Every facility and jurisdiction it covers, for everyone who sees it: the case's size, and
    -- whom to contact, even where its other facilities are out of the caller's scope.
    facility_count     integer     NOT NULL DEFAULT 0,
    jurisdictions      uuid[]      NOT NULL DEFAULT '{}',
    opened_at          timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    closed_at          timestamptz,
    CHECK ((kind = 'facility') = (facility_id IS NOT NULL)),
    CHECK ((kind = 'pattern') = (pattern_id IS NOT NULL)),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL AND close_reason IS NOT NULL)),
    CHECK (status <> 'referred' OR referral_reference IS NOT NULL),
    CHECK ((merged_into IS NOT NULL) = (close_reason IS NOT DISTINCT FROM 'merged'))
);
-- At most one facility case not closed per facility: alerts open at once share it.
CREATE UNIQUE INDEX cases_one_open_per_facility ON cases (facility_id) WHERE kind = 'facility' AND status <> 'closed';
CREATE INDEX cases_updated_idx ON cases (updated_at DESC, id DESC);

CREATE TABLE case_facilities (
    case_id         uuid NOT NULL REFERENCES cases (id),
    facility_id     uuid NOT NULL REFERENCES facilities (id),
    jurisdiction_id uuid NOT NULL REFERENCES jurisdictions (id),
    PRIMARY KEY (case_id, facility_id)
);
CREATE INDEX case_facilities_facility_idx ON case_facilities (facility_id);

ALTER TABLE alerts ADD COLUMN case_id uuid REFERENCES cases (id);
CREATE INDEX alerts_case_idx ON alerts (case_id);

CREATE TABLE case_events (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id   uuid        NOT NULL REFERENCES cases (id),
    kind      text        NOT NULL CHECK (kind IN (
                              'opened', 'alert_added', 'facility_added', 'acknowledged', 'referred', 'closed', 'reopened', 'comment')),
    -- The regulator's token and its holder then; NULL and 'centinela' for the service itself.
    actor_id  uuid        REFERENCES api_tokens (id),
    actor     text        NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- The alert or facility concerned, when there is one: an event about another jurisdiction's
    -- facility is seen only by those who may see it.
    alert_id        uuid REFERENCES alerts (id),
    jurisdiction_id uuid REFERENCES jurisdictions (id),
    details   jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object')
);
CREATE INDEX case_events_case_idx ON case_events (case_id, id);
CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change_to_append_only();

ALTER TABLE cases ENABLE ROW LEVEL SECURITY;
ALTER TABLE cases FORCE ROW LEVEL SECURITY;
ALTER TABLE case_facilities ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_facilities FORCE ROW LEVEL SECURITY;
ALTER TABLE case_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_events FORCE ROW LEVEL SECURITY;

-- A regulator sees the facilities of a case in their jurisdictions...
CREATE POLICY case_facilities_read ON case_facilities FOR SELECT
    USING ((SELECT centinela_scope_role()) = 'system'
           OR ((SELECT centinela_scope_role()) = 'regulator'
               AND jurisdiction_id = ANY ((SELECT centinela_scope_jurisdictions())::uuid[])));
CREATE POLICY case_facilities_insert ON case_facilities FOR INSERT WITH CHECK ((SELECT centinela_scope_role()) = 'system');
-- ...the cases touching one of them (its size and jurisdictions, not the others' details)...
CREATE POLICY cases_read ON cases FOR SELECT
    USING ((SELECT centinela_scope_role()) = 'system'
           OR ((SELECT centinela_scope_role()) = 'regulator' AND EXISTS (SELECT 1 FROM case_facilities f WHERE f.case_id = id)));
CREATE POLICY cases_insert ON cases FOR INSERT WITH CHECK ((SELECT centinela_scope_role()) = 'system');
CREATE POLICY cases_update ON cases FOR UPDATE
    USING ((SELECT centinela_scope_role()) = 'system'
           OR ((SELECT centinela_scope_role()) = 'regulator' AND EXISTS (SELECT 1 FROM case_facilities f WHERE f.case_id = id)))
    WITH CHECK ((SELECT centinela_scope_role()) = 'system'
           OR ((SELECT centinela_scope_role()) = 'regulator' AND EXISTS (SELECT 1 FROM case_facilities f WHERE f.case_id = id)));
-- ...and a case's events, except those about another jurisdiction's facility or alert.
CREATE POLICY case_events_read ON case_events FOR SELECT
    USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id)
           AND (jurisdiction_id IS NULL OR (SELECT centinela_scope_role()) = 'system'
                OR jurisdiction_id = ANY ((SELECT centinela_scope_jurisdictions())::uuid[])));
CREATE POLICY case_events_insert ON case_events FOR INSERT
    WITH CHECK ((SELECT centinela_scope_role()) IN ('system', 'regulator') AND EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id));

GRANT SELECT, INSERT, UPDATE ON cases TO centinela_service;
GRANT SELECT, INSERT ON case_facilities, case_events TO centinela_service;
