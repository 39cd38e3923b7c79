-- 0024_console_sessions: sign-in to the web console (issue 23).
--
-- A person signs in once with their API token; the console then carries a random session id in an
-- HttpOnly cookie instead of the token. Only the SHA-256 of the session id is stored, as for
-- tokens. A session holds no rights of its own: every page resolves it to its token's principal
-- through centinela_console_resume, which refuses a session whose token has been revoked or has
-- expired, so revoking a token ends its sessions at once. Idle and absolute limits are the
-- service's settings, passed in on each call.
--
-- The service reaches this table through the functions below only, as it reaches api_tokens.

CREATE TABLE console_sessions (
    id_sha256     bytea       PRIMARY KEY CHECK (octet_length(id_sha256) = 32),
    token_id      uuid        NOT NULL REFERENCES api_tokens (id),
    -- The anti-forgery token every form of this session carries (random, URL-safe).
    csrf_token    text        NOT NULL CHECK (csrf_token ~ '^[A-Za-z0-9_-]{43}$'),
    started_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    ended_at      timestamptz,
    ended_reason  text        CHECK (ended_reason IN ('signed_out', 'idle', 'expired', 'token_inactive')),
    CHECK ((ended_at IS NULL) = (ended_reason IS NULL))
);
CREATE INDEX console_sessions_open_by_token ON console_sessions (token_id) WHERE ended_at IS NULL;

-- Starts a session for a presented token; NULL when the token is unknown, expired or revoked.
CREATE FUNCTION centinela_console_begin(presented_sha256 bytea, session_sha256 bytea, csrf text)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    token uuid;
BEGIN
    SELECT t.id INTO token FROM api_tokens t
    WHERE t.secret_sha256 = presented_sha256
      AND t.revoked_at IS NULL
      AND (t.expires_at IS NULL OR t.expires_at > now());
    IF token IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO console_sessions (id_sha256, token_id, csrf_token) VALUES (session_sha256, token, csrf);
    RETURN token;
END;
$$;
REVOKE ALL ON FUNCTION centinela_console_begin(bytea, bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION centinela_console_begin(bytea, bytea, text) TO centinela_service;

-- The principal behind an open session, as centinela_authenticate returns a token's, with the
-- session's anti-forgery token; nothing for an unknown or ended session. A session idle for longer
-- than idle_seconds, older than absolute_seconds, or whose token no longer holds is ended here, so
-- that it cannot come back.
CREATE FUNCTION centinela_console_resume(session_sha256 bytea, idle_seconds integer, absolute_seconds integer)
RETURNS TABLE (token_id uuid, holder text, role text, facility_ids uuid[], jurisdiction_ids uuid[], csrf_token text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    session console_sessions;
    reason text;
BEGIN
    SELECT * INTO session FROM console_sessions s
    WHERE s.id_sha256 = session_sha256 AND s.ended_at IS NULL
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    reason := CASE
        WHEN NOT EXISTS (SELECT 1 FROM api_tokens t WHERE t.id = session.token_id AND t.revoked_at IS NULL
                         AND (t.expires_at IS NULL OR t.expires_at > clock_timestamp())) THEN 'token_inactive'
        WHEN session.started_at < clock_timestamp() - make_interval(secs => absolute_seconds) THEN 'expired'
        WHEN session.last_seen_at < clock_timestamp() - make_interval(secs => idle_seconds) THEN 'idle'
    END;
    IF reason IS NOT NULL THEN
        UPDATE console_sessions s SET ended_at = clock_timestamp(), ended_reason = reason
        WHERE s.id_sha256 = session_sha256;
        RETURN;
    END IF;
    UPDATE console_sessions s SET last_seen_at = clock_timestamp() WHERE s.id_sha256 = session_sha256;
    RETURN QUERY
    WITH RECURSIVE scope(id) AS (
        SELECT tj.jurisdiction_id FROM api_token_jurisdictions tj WHERE tj.token_id = session.token_id
        UNION
        SELECT j.id FROM jurisdictions j JOIN scope ON j.parent_id = scope.id
    )
    SELECT t.id, t.holder, t.role,
           coalesce((SELECT array_agg(tf.facility_id ORDER BY tf.facility_id)
                     FROM api_token_facilities tf WHERE tf.token_id = t.id), '{}'),
           coalesce((SELECT array_agg(scope.id ORDER BY scope.id) FROM scope), '{}'),
           session.csrf_token
    FROM api_tokens t WHERE t.id = session.token_id;
END;
$$;
REVOKE ALL ON FUNCTION centinela_console_resume(bytea, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION centinela_console_resume(bytea, integer, integer) TO centinela_service;

-- Ends a session on sign-out; returns its token's id, or NULL when it was not open.
CREATE FUNCTION centinela_console_end(session_sha256 bytea)
RETURNS uuid
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    UPDATE console_sessions s SET ended_at = clock_timestamp(), ended_reason = 'signed_out'
    WHERE s.id_sha256 = session_sha256 AND s.ended_at IS NULL
    RETURNING s.token_id
$$;
REVOKE ALL ON FUNCTION centinela_console_end(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION centinela_console_end(bytea) TO centinela_service;
