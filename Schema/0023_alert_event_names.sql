-- 0023_alert_event_names: an alert event is named `alert.<kind>` wherever a client meets it — in a
-- webhook's payload `type` (as before), in a webhook's `events` filter and on the live stream
-- (`event: alert.opened`), as case events are `case.<kind>` (API 0.2.0). Filters stored before
-- name alert kinds bare; they are renamed here, and the outbox compares the prefixed name.

UPDATE webhook_endpoints
SET event_kinds = ARRAY(
    SELECT CASE WHEN k LIKE 'case.%' OR k LIKE 'alert.%' THEN k ELSE 'alert.' || k END FROM unnest(event_kinds) AS k)
WHERE event_kinds IS NOT NULL;

CREATE OR REPLACE FUNCTION centinela_webhook_outbox() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, event_id)
    SELECT w.id, e.id
    FROM appended e
    JOIN alerts a ON a.id = e.alert_id
    JOIN webhook_endpoints w ON w.disabled_at IS NULL
        AND a.jurisdiction_id = ANY (w.jurisdictions)
        AND (w.min_severity IS NULL OR w.min_severity = 'high' OR a.severity = 'critical')
        AND (w.rules IS NULL OR a.rule = ANY (w.rules))
        AND (w.event_kinds IS NULL OR 'alert.' || e.kind = ANY (w.event_kinds))
        AND centinela_token_is_active(w.owner_id);
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION centinela_webhook_outbox() FROM PUBLIC;
