-- 0005_alerts: alerts to regulators and their append-only history.
--
-- The rules are in the service (Sources/CentinelaCore/Alerts, docs/alerts.md); these tables keep
-- each alert's current state and every event in its life. An alert is seen by the regulators of
-- its facility's jurisdiction and of every jurisdiction above it (a regulator's scope holds its
-- jurisdictions and all below them), never by schools: staff of the facility may be implicated.

CREATE TABLE alerts (
    id                 uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    rule               text          NOT NULL CHECK (rule IN (
                                         'band', 'several_adults_severe', 'filming', 'sexual_abuse_under_six',
                                         'adult_several_facilities', 'adult_repeat')),
    facility_id        uuid          NOT NULL REFERENCES facilities (id),
    -- '' for facility-wide rules; the adult's pseudonymous key for rules about one adult.
    subject            text          NOT NULL DEFAULT '' CHECK (length(subject) <= 200),
    jurisdiction_id    uuid          NOT NULL REFERENCES jurisdictions (id),
    severity           text          NOT NULL CHECK (severity IN ('high', 'critical')),
    status             text          NOT NULL DEFAULT 'open' CHECK (status IN (
                                         'open', 'acknowledged', 'assigned', 'referred', 'resolved')),
    assignee_id        uuid          REFERENCES api_tokens (id),
    -- The assignee's holder as when assigned, for lists (the service cannot read tokens).
    assignee           text          CHECK (length(assignee) <= 200),
    referral           text          CHECK (referral IN ('prosecutor', 'police', 'child_protection')),
    referral_reference text          CHECK (length(referral_reference) BETWEEN 1 AND 200),
    resolution         text          CHECK (resolution IN (
                                         'action_taken', 'referred_to_authorities', 'unfounded_after_review',
                                         'duplicate', 'facility_closed', 'quiet', 'other')),
    resolution_note    text          CHECK (length(resolution_note) <= 5000),
    resolved_at        timestamptz,
    snoozed_until      timestamptz,
    snooze_reason      text          CHECK (length(snooze_reason) <= 1000),
    -- Band alerts: since when the facility has been seen continuously quiet (hysteresis).
    quiet_since        timestamptz,
    -- The evidence: reports and adults (keys as in risk reasons), and when it was received.
    reports            uuid[]        NOT NULL DEFAULT '{}',
    adults             text[]        NOT NULL DEFAULT '{}',
    first_evidence_at  timestamptz,
    last_evidence_at   timestamptz,
    -- The facility's score and band when the alert was opened or last had news, and the score
    -- record (with its reasons) they come from.
    score              numeric(4, 1) NOT NULL,
    band               text          NOT NULL CHECK (band IN ('low', 'elevated', 'high', 'critical')),
    score_history_id   bigint        REFERENCES risk_score_history (id),
    opened_at          timestamptz   NOT NULL DEFAULT now(),
    updated_at         timestamptz   NOT NULL DEFAULT now(),
    -- One alert per rule, facility and subject, ever: a repeat adds to it, new evidence reopens it.
    UNIQUE (rule, facility_id, subject),
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL AND resolution IS NOT NULL))
);
CREATE INDEX alerts_jurisdiction_idx ON alerts (jurisdiction_id, opened_at DESC, id DESC);
CREATE INDEX alerts_status_idx ON alerts (status, opened_at DESC, id DESC);
CREATE INDEX alerts_facility_idx ON alerts (facility_id);

-- Every change to an alert, appended: what happened, who did it (a regulator's token, or the
-- service), when. The id orders the live stream and is its Last-Event-ID.
CREATE TABLE alert_events (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id  uuid        NOT NULL REFERENCES alerts (id),
    kind      text        NOT NULL CHECK (kind IN (
                              'opened', 'evidence_added', 'escalated', 'reopened', 'acknowledged', 'assigned',
                              'referred', 'resolved', 'snoozed', 'snooze_ended', 'comment')),
    -- The regulator's token and its holder then; NULL and 'centinela' for the service itself.
    actor_id  uuid        REFERENCES api_tokens (id),
    actor     text        NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    details   jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object')
);
CREATE INDEX alert_events_alert_idx ON alert_events (alert_id, id);
CREATE TRIGGER alert_events_append_only BEFORE UPDATE OR DELETE ON alert_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change_to_append_only();

-- Event ids become visible in id order: a stream resuming after id N must never later find an
-- event below N. Writers of events take this lock before any id is drawn and hold it to commit
-- (alert events are few; a report never waits for it).
CREATE FUNCTION centinela_alert_events_in_order() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7306086629160088183);
    RETURN NULL;
END;
$$;
CREATE TRIGGER alert_events_in_order BEFORE INSERT ON alert_events
    FOR EACH STATEMENT EXECUTE FUNCTION centinela_alert_events_in_order();

-- Wakes live streams (and, later, webhook delivery) at commit.
CREATE FUNCTION centinela_alert_events_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('centinela_alert_event', (SELECT max(id)::text FROM appended));
    RETURN NULL;
END;
$$;
CREATE TRIGGER alert_events_notify AFTER INSERT ON alert_events
    REFERENCING NEW TABLE AS appended FOR EACH STATEMENT EXECUTE FUNCTION centinela_alert_events_notify();

ALTER TABLE alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE alerts FORCE ROW LEVEL SECURITY;
CREATE POLICY alerts_read ON alerts FOR SELECT
    USING (centinela_scope_role() = 'system'
           OR (centinela_scope_role() = 'regulator' AND jurisdiction_id = ANY (centinela_scope_jurisdictions())));
-- The service opens and updates alerts; a regulator updates those it may see (transitions).
CREATE POLICY alerts_insert ON alerts FOR INSERT WITH CHECK (centinela_scope_role() = 'system');
CREATE POLICY alerts_update ON alerts FOR UPDATE
    USING (centinela_scope_role() = 'system'
           OR (centinela_scope_role() = 'regulator' AND jurisdiction_id = ANY (centinela_scope_jurisdictions())))
    WITH CHECK (centinela_scope_role() = 'system'
           OR (centinela_scope_role() = 'regulator' AND jurisdiction_id = ANY (centinela_scope_jurisdictions())));

ALTER TABLE alert_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE alert_events FORCE ROW LEVEL SECURITY;
-- An event is visible exactly when its alert is (the subquery is itself filtered).
CREATE POLICY alert_events_read ON alert_events FOR SELECT
    USING (EXISTS (SELECT 1 FROM alerts a WHERE a.id = alert_id));
CREATE POLICY alert_events_insert ON alert_events FOR INSERT
    WITH CHECK (centinela_scope_role() IN ('system', 'regulator') AND EXISTS (SELECT 1 FROM alerts a WHERE a.id = alert_id));

-- Whom an alert may be assigned to: an active regulator token whose scope covers the
-- jurisdiction. Returns its holder, or NULL. For regulators only (they assign).
CREATE FUNCTION centinela_regulator_covering(token uuid, jurisdiction uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH RECURSIVE scope(id) AS (
        SELECT tj.jurisdiction_id FROM api_token_jurisdictions tj WHERE tj.token_id = token
        UNION
        SELECT j.id FROM jurisdictions j JOIN scope ON j.parent_id = scope.id
    )
    SELECT t.holder FROM api_tokens t
    WHERE t.id = token AND t.role = 'regulator' AND t.revoked_at IS NULL
      AND (t.expires_at IS NULL OR t.expires_at > now())
      AND centinela_scope_role() = 'regulator'
      AND EXISTS (SELECT 1 FROM scope WHERE scope.id = jurisdiction)
$$;
REVOKE ALL ON FUNCTION centinela_regulator_covering(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION centinela_regulator_covering(uuid, uuid) TO centinela_service;

GRANT SELECT, INSERT, UPDATE ON alerts TO centinela_service;
GRANT SELECT, INSERT ON alert_events TO centinela_service;
