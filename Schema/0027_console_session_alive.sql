-- 0027_console_session_alive: whether a console session still holds, without counting the
-- question as activity.
--
-- The console's live inbox follows the API's stream with the session's principal; the stream
-- checked the token every few seconds, so signing out (which ends the session, not the token)
-- left an open stream running until the page was closed. The stream now asks this instead: the
-- session not ended, its token active, within its absolute and idle limits. Unlike
-- centinela_console_resume it changes nothing: a page left open is not a person at work, so the
-- idle limit still applies to it.
CREATE FUNCTION centinela_console_alive(session_sha256 bytea, idle_seconds integer, absolute_seconds integer)
RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT EXISTS (
        SELECT 1 FROM console_sessions s JOIN api_tokens t ON t.id = s.token_id
        WHERE s.id_sha256 = session_sha256 AND s.ended_at IS NULL
          AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > clock_timestamp())
          AND s.started_at >= clock_timestamp() - make_interval(secs => absolute_seconds)
          AND s.last_seen_at >= clock_timestamp() - make_interval(secs => idle_seconds))
$$;
REVOKE ALL ON FUNCTION centinela_console_alive(bytea, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION centinela_console_alive(bytea, integer, integer) TO centinela_service;
