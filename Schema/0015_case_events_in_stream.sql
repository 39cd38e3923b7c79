-- 0015_case_events_in_stream: case events join the live stream and the webhooks (docs/alerts.md, "Cases").
--
-- Case events take their ids from the alert events' sequence and share their ordering lock and
-- wake-up: the live stream carries both kinds in one id order, and a client resuming after id N
-- misses neither. Case events recorded before this migration are renumbered from that sequence,
-- in their order, so that no id names two events (the append-only guard is lifted for that one
-- statement and for nothing else).
ALTER TABLE case_events ALTER COLUMN id DROP IDENTITY;
ALTER TABLE case_events DISABLE TRIGGER case_events_append_only;
UPDATE case_events SET id = -id;
UPDATE case_events c SET id = n.new_id
FROM (SELECT old_id, nextval('alert_events_id_seq'::regclass) AS new_id
      FROM (SELECT id AS old_id FROM case_events ORDER BY id DESC) ordered) n
WHERE c.id = n.old_id;
ALTER TABLE case_events ENABLE TRIGGER case_events_append_only;
ALTER TABLE case_events ALTER COLUMN id SET DEFAULT nextval('alert_events_id_seq'::regclass);

CREATE TRIGGER case_events_in_order BEFORE INSERT ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION centinela_alert_events_in_order();
CREATE TRIGGER case_events_notify AFTER INSERT ON case_events
    REFERENCING NEW TABLE AS appended FOR EACH STATEMENT EXECUTE FUNCTION centinela_alert_events_notify();
GRANT USAGE ON SEQUENCE alert_events_id_seq TO centinela_service;

-- Case events go to webhooks too, through the same outbox: a delivery carries an alert event or a
-- case event. An endpoint receives the case events of cases reaching its jurisdictions (an event
-- about one facility: that facility's), when its kinds filter is unset or lists 'case.<kind>';
-- endpoints filtering alerts by rule receive no case events.
ALTER TABLE webhook_deliveries ALTER COLUMN event_id DROP NOT NULL;
ALTER TABLE webhook_deliveries ADD COLUMN case_event_id bigint REFERENCES case_events (id);
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_one_event CHECK ((event_id IS NULL) <> (case_event_id IS NULL));
CREATE UNIQUE INDEX webhook_deliveries_case_event_idx ON webhook_deliveries (endpoint_id, case_event_id) WHERE case_event_id IS NOT NULL;

CREATE FUNCTION centinela_webhook_case_outbox() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, case_event_id)
    SELECT w.id, e.id
    FROM appended e
    JOIN cases c ON c.id = e.case_id
    JOIN webhook_endpoints w ON w.disabled_at IS NULL
        AND CASE WHEN e.jurisdiction_id IS NOT NULL THEN e.jurisdiction_id = ANY (w.jurisdictions)
                 ELSE c.jurisdictions && w.jurisdictions END
        AND w.rules IS NULL
        AND (w.event_kinds IS NULL OR 'case.' || e.kind = ANY (w.event_kinds))
        AND centinela_token_is_active(w.owner_id);
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION centinela_webhook_case_outbox() FROM PUBLIC;
CREATE TRIGGER case_events_outbox AFTER INSERT ON case_events
    REFERENCING NEW TABLE AS appended FOR EACH STATEMENT EXECUTE FUNCTION centinela_webhook_case_outbox();
