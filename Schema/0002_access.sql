-- 0002_access: who may call the service (API tokens), what each caller may see (row-level security
-- as a second wall behind the service's own checks), idempotent report submission, and a
-- tamper-evident audit trail.
--
-- The service never works as the tables' owner: every request runs in a transaction that does
-- `SET LOCAL ROLE centinela_service` and sets the caller's scope with set_config(..., true):
--   centinela.role           'school' | 'regulator' | 'admin'
--   centinela.facilities     uuid[] literal: the facilities a school token is bound to
--   centinela.jurisdictions  uuid[] literal: a regulator's jurisdictions and all below them
-- Without a scope, the policies below let centinela_service see no tenant row at all.

-- Roles belong to the whole cluster, not to one database: another database of the same cluster
-- may be creating the role at this very moment, hence the exception handlers.
DO $$
BEGIN
    BEGIN
        CREATE ROLE centinela_service NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;  -- it exists already
    END;
    -- The user that runs migrations (and the service) must be able to SET ROLE to it.
    BEGIN
        EXECUTE format('GRANT centinela_service TO %I', current_user);
    EXCEPTION WHEN unique_violation OR duplicate_object THEN
        NULL;  -- granted already, concurrently
    END;
END
$$;

-- API tokens: only a SHA-256 of the secret is stored; the secret is shown once, at creation.
CREATE TABLE api_tokens (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    secret_sha256   bytea       NOT NULL UNIQUE CHECK (octet_length(secret_sha256) = 32),
    -- The token's first characters ('cen_AbCd1234'), to recognise it in lists and logs.
    display_prefix  text        NOT NULL CHECK (display_prefix ~ '^cen_[A-Za-z0-9_-]{8}$'),
    -- Who holds it: a person or a system, e.g. 'Lic. Ana Ruiz, SEP Jalisco'.
    holder          text        NOT NULL CHECK (length(btrim(holder)) BETWEEN 1 AND 200),
    role            text        NOT NULL CHECK (role IN ('school', 'regulator', 'admin')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz,
    revoked_at      timestamptz,
    revoked_reason  text        CHECK (length(revoked_reason) <= 500),
    CHECK (expires_at IS NULL OR expires_at > created_at),
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);

CREATE TABLE api_token_facilities (
    token_id    uuid NOT NULL REFERENCES api_tokens (id),
    facility_id uuid NOT NULL REFERENCES facilities (id),
    PRIMARY KEY (token_id, facility_id)
);

CREATE TABLE api_token_jurisdictions (
    token_id        uuid NOT NULL REFERENCES api_tokens (id),
    jurisdiction_id uuid NOT NULL REFERENCES jurisdictions (id),
    PRIMARY KEY (token_id, jurisdiction_id)
);

-- The service resolves a presented token through this function only; it has no access to the
-- token tables themselves. Expired and revoked tokens resolve to nothing. A regulator's
-- jurisdictions are expanded to every jurisdiction below them.
CREATE FUNCTION centinela_authenticate(presented_sha256 bytea)
RETURNS TABLE (token_id uuid, holder text, role text, facility_ids uuid[], jurisdiction_ids uuid[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
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
    FROM token
$$;
REVOKE ALL ON FUNCTION centinela_authenticate(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION centinela_authenticate(bytea) TO centinela_service;

-- The caller's scope, as set by the service for the current transaction.
CREATE FUNCTION centinela_scope_role() RETURNS text
LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('centinela.role', true), '') $$;

CREATE FUNCTION centinela_scope_facilities() RETURNS uuid[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('centinela.facilities', true), '')::uuid[], '{}')
$$;

CREATE FUNCTION centinela_scope_jurisdictions() RETURNS uuid[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('centinela.jurisdictions', true), '')::uuid[], '{}')
$$;

-- Whether the caller may see a facility (and so its roster); admins see every facility.
CREATE FUNCTION centinela_may_see_facility(facility uuid, jurisdiction uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE centinela_scope_role()
        WHEN 'admin' THEN true
        WHEN 'regulator' THEN jurisdiction = ANY (centinela_scope_jurisdictions())
        WHEN 'school' THEN facility = ANY (centinela_scope_facilities())
        ELSE false
    END
$$;

-- Whether the caller may see and add reports of a facility: schools and regulators only (an
-- operator administers the service, not the cases).
CREATE FUNCTION centinela_may_see_reports_of(facility uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE centinela_scope_role()
        WHEN 'school' THEN facility = ANY (centinela_scope_facilities())
        WHEN 'regulator' THEN EXISTS (
            SELECT 1 FROM facilities f
            WHERE f.id = facility AND f.jurisdiction_id = ANY (centinela_scope_jurisdictions()))
        ELSE false
    END
$$;

-- Row-level security on every tenant table, forced for the owner too.
ALTER TABLE jurisdictions ENABLE ROW LEVEL SECURITY;
ALTER TABLE jurisdictions FORCE ROW LEVEL SECURITY;
-- Jurisdictions are public reference data for any authenticated caller; only admins change them.
CREATE POLICY jurisdictions_read ON jurisdictions FOR SELECT USING (centinela_scope_role() IS NOT NULL);
CREATE POLICY jurisdictions_write ON jurisdictions FOR INSERT WITH CHECK (centinela_scope_role() = 'admin');
CREATE POLICY jurisdictions_update ON jurisdictions FOR UPDATE
    USING (centinela_scope_role() = 'admin') WITH CHECK (centinela_scope_role() = 'admin');

ALTER TABLE facilities ENABLE ROW LEVEL SECURITY;
ALTER TABLE facilities FORCE ROW LEVEL SECURITY;
CREATE POLICY facilities_read ON facilities FOR SELECT USING (centinela_may_see_facility(id, jurisdiction_id));
CREATE POLICY facilities_insert ON facilities FOR INSERT WITH CHECK (centinela_scope_role() = 'admin');
CREATE POLICY facilities_update ON facilities FOR UPDATE
    USING (centinela_scope_role() = 'admin') WITH CHECK (centinela_scope_role() = 'admin');

ALTER TABLE adults ENABLE ROW LEVEL SECURITY;
ALTER TABLE adults FORCE ROW LEVEL SECURITY;
CREATE POLICY adults_read ON adults FOR SELECT USING (centinela_may_see_reports_of(facility_id));
-- A school maintains its own roster.
CREATE POLICY adults_insert ON adults FOR INSERT WITH CHECK (
    centinela_scope_role() = 'school' AND facility_id = ANY (centinela_scope_facilities()));
CREATE POLICY adults_update ON adults FOR UPDATE
    USING (centinela_scope_role() = 'school' AND facility_id = ANY (centinela_scope_facilities()))
    WITH CHECK (centinela_scope_role() = 'school' AND facility_id = ANY (centinela_scope_facilities()));

ALTER TABLE incident_reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE incident_reports FORCE ROW LEVEL SECURITY;
CREATE POLICY incident_reports_read ON incident_reports FOR SELECT USING (centinela_may_see_reports_of(facility_id));
CREATE POLICY incident_reports_insert ON incident_reports FOR INSERT WITH CHECK (centinela_may_see_reports_of(facility_id));

-- A report's parts are visible exactly when the report is (the subquery is itself filtered).
ALTER TABLE report_adults ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_adults FORCE ROW LEVEL SECURITY;
CREATE POLICY report_adults_access ON report_adults FOR ALL
    USING (EXISTS (SELECT 1 FROM incident_reports r WHERE r.id = report_id))
    WITH CHECK (EXISTS (SELECT 1 FROM incident_reports r WHERE r.id = report_id));

ALTER TABLE report_children ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_children FORCE ROW LEVEL SECURITY;
CREATE POLICY report_children_access ON report_children FOR ALL
    USING (EXISTS (SELECT 1 FROM incident_reports r WHERE r.id = report_id))
    WITH CHECK (EXISTS (SELECT 1 FROM incident_reports r WHERE r.id = report_id));

ALTER TABLE report_amendments ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_amendments FORCE ROW LEVEL SECURITY;
CREATE POLICY report_amendments_access ON report_amendments FOR ALL
    USING (EXISTS (SELECT 1 FROM incident_reports r WHERE r.id = report_id))
    WITH CHECK (EXISTS (SELECT 1 FROM incident_reports r WHERE r.id = report_id));

ALTER TABLE report_status_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_status_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY report_status_changes_read ON report_status_changes FOR SELECT
    USING (EXISTS (SELECT 1 FROM incident_reports r WHERE r.id = report_id));
-- Only regulators decide on a report.
CREATE POLICY report_status_changes_insert ON report_status_changes FOR INSERT
    WITH CHECK (centinela_scope_role() = 'regulator'
                AND EXISTS (SELECT 1 FROM incident_reports r WHERE r.id = report_id));

-- Who wrote each appended row, for the report's history.
ALTER TABLE report_status_changes ADD COLUMN changed_by uuid REFERENCES api_tokens (id);
ALTER TABLE report_amendments ADD COLUMN amended_by uuid REFERENCES api_tokens (id);
ALTER TABLE incident_reports ADD COLUMN submitted_by uuid REFERENCES api_tokens (id);
CREATE INDEX incident_reports_category_received_idx ON incident_reports (category, received_at);

-- Idempotent submission: a retry with the same key and the same body gets the stored answer.
CREATE TABLE idempotency_keys (
    token_id        uuid        NOT NULL REFERENCES api_tokens (id),
    key             text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- SHA-256 of the method, path and body the key was first used with.
    request_sha256  bytea       NOT NULL CHECK (octet_length(request_sha256) = 32),
    response_status smallint    NOT NULL,
    response_body   bytea       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (token_id, key)
);
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
-- A key belongs to the token that used it: nobody else can replay or probe it.
CREATE POLICY idempotency_keys_own ON idempotency_keys FOR ALL
    USING (token_id = nullif(current_setting('centinela.token', true), '')::uuid)
    WITH CHECK (token_id = nullif(current_setting('centinela.token', true), '')::uuid);

-- The audit trail: one row per read or write of report data, hash-chained. Each row's hash covers
-- its own content and the previous row's hash, so an edited or deleted row breaks the chain at
-- that point (`centinela audit verify`).
CREATE TABLE audit_events (
    position     bigint      PRIMARY KEY,
    occurred_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    request_id   text        NOT NULL CHECK (length(request_id) <= 128),
    actor_token  uuid,
    actor_role   text        CHECK (actor_role IN ('school', 'regulator', 'admin', 'system')),
    action       text        NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    object_type  text        NOT NULL CHECK (length(object_type) <= 64),
    object_id    text        CHECK (length(object_id) <= 128),
    outcome      text        NOT NULL CHECK (outcome IN ('ok', 'denied', 'not_found', 'invalid', 'error')),
    details      jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
    prev_hash    bytea       NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash         bytea       NOT NULL CHECK (octet_length(hash) = 32)
);
CREATE INDEX audit_events_object_idx ON audit_events (object_type, object_id, occurred_at);

-- The text a row's hash covers. Verification recomputes it from the stored columns.
CREATE FUNCTION audit_event_digest(e audit_events) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(e.prev_hash || convert_to(concat_ws(E'\x1f',
        e.position::text,
        to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        e.request_id, coalesce(e.actor_token::text, ''), coalesce(e.actor_role, ''),
        e.action, e.object_type, coalesce(e.object_id, ''), e.outcome, e.details::text), 'UTF8'))
$$;

-- Chains each new row after the last one. The transaction-scoped advisory lock serialises
-- appenders; callers append their audit row last in a transaction, so the lock is held briefly.
CREATE FUNCTION audit_events_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    last audit_events%ROWTYPE;
BEGIN
    PERFORM pg_advisory_xact_lock(7306086629160088181);  -- 'centinela audit' chain lock
    SELECT * INTO last FROM audit_events ORDER BY position DESC LIMIT 1;
    IF FOUND THEN
        NEW.position := last.position + 1;
        NEW.prev_hash := last.hash;
    ELSE
        NEW.position := 1;
        NEW.prev_hash := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
    END IF;
    NEW.occurred_at := date_trunc('microseconds', clock_timestamp());
    NEW.hash := audit_event_digest(NEW);
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_chain();
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change_to_append_only();

-- What the service may do at all; row-level security narrows it per caller.
GRANT USAGE ON SCHEMA public TO centinela_service;
GRANT SELECT, INSERT, UPDATE ON jurisdictions, facilities, adults TO centinela_service;
GRANT SELECT, INSERT ON incident_reports, report_adults, report_children, report_status_changes,
    report_amendments, idempotency_keys TO centinela_service;
GRANT INSERT ON audit_events TO centinela_service;
-- Readiness and start-up checks compare the schema with the build.
GRANT SELECT ON schema_migrations TO centinela_service;
