-- 0006_webhooks: regulators' webhook endpoints and the outbox of deliveries.
--
-- A delivery row is written by a trigger in the same transaction as the alert event it carries:
-- no alert event without its deliveries, no delivery without its event. The service sends them
-- (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature), retries with backoff for
-- a bounded time, then marks them dead, visible and redeliverable through the API.

CREATE TABLE webhook_endpoints (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The regulator token that registered it, and its holder then.
    owner_id      uuid        NOT NULL REFERENCES api_tokens (id),
    owner         text        NOT NULL CHECK (length(owner) BETWEEN 1 AND 200),
    url           text        NOT NULL CHECK (length(url) <= 2000 AND url ~ '^https?://'),
    -- 'whsec_' and the base64 key: needed to sign, so kept; shown once, at registration.
    secret        text        NOT NULL CHECK (secret ~ '^whsec_[A-Za-z0-9+/=]{32,}$'),
    -- The owner's jurisdictions when registered (and all below): alerts outside them never go here.
    jurisdictions uuid[]      NOT NULL CHECK (cardinality(jurisdictions) > 0),
    -- Filters; NULL means any.
    min_severity  text        CHECK (min_severity IN ('high', 'critical')),
    rules         text[],
    event_kinds   text[],
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);

CREATE TABLE webhook_deliveries (
    -- The webhook-id: the same on every attempt, so a receiver can drop a repeat.
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    endpoint_id     uuid        NOT NULL REFERENCES webhook_endpoints (id),
    event_id        bigint      NOT NULL REFERENCES alert_events (id),
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    -- The receiver's HTTP status, or the error when there was no answer.
    last_status     integer,
    last_error      text        CHECK (length(last_error) <= 1000),
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Retries stop a bounded time after this: the first queueing, or a regulator's redelivery.
    queued_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, status, created_at DESC);

-- Whether a token may still act: an endpoint whose owner's token is revoked or expired receives
-- nothing more (the service cannot read tokens; this is all it learns).
CREATE FUNCTION centinela_token_is_active(token uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT EXISTS (
        SELECT 1 FROM api_tokens t
        WHERE t.id = token AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()))
$$;
REVOKE ALL ON FUNCTION centinela_token_is_active(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION centinela_token_is_active(uuid) TO centinela_service;

-- The outbox: every alert event, for every active endpoint whose jurisdictions and filters match.
CREATE FUNCTION centinela_webhook_outbox() RETURNS trigger
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
        AND (w.event_kinds IS NULL OR e.kind = ANY (w.event_kinds))
        AND centinela_token_is_active(w.owner_id);
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION centinela_webhook_outbox() FROM PUBLIC;
CREATE TRIGGER alert_events_outbox AFTER INSERT ON alert_events
    REFERENCING NEW TABLE AS appended FOR EACH STATEMENT EXECUTE FUNCTION centinela_webhook_outbox();

-- Regulators see and manage the endpoints registered within their jurisdictions (the service
-- checks that only the owner changes one); the system scope delivers.
ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_endpoints_access ON webhook_endpoints FOR ALL
    USING (centinela_scope_role() = 'system'
           OR (centinela_scope_role() = 'regulator' AND jurisdictions <@ centinela_scope_jurisdictions()))
    WITH CHECK (centinela_scope_role() = 'regulator' AND jurisdictions <@ centinela_scope_jurisdictions());
-- The outbox function runs with its owner's rights but under the caller's scope.
CREATE POLICY webhook_endpoints_outbox ON webhook_endpoints FOR SELECT
    USING (current_user = (SELECT tableowner FROM pg_tables WHERE tablename = 'webhook_endpoints' AND schemaname = 'public'));

ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_deliveries_access ON webhook_deliveries FOR ALL
    USING (centinela_scope_role() = 'system' OR EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.id = endpoint_id))
    WITH CHECK (centinela_scope_role() = 'system' OR EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.id = endpoint_id));
CREATE POLICY webhook_deliveries_outbox ON webhook_deliveries FOR INSERT
    WITH CHECK (current_user = (SELECT tableowner FROM pg_tables WHERE tablename = 'webhook_deliveries' AND schemaname = 'public'));

GRANT SELECT, INSERT, UPDATE ON webhook_endpoints TO centinela_service;
GRANT SELECT, UPDATE ON webhook_deliveries TO centinela_service;
