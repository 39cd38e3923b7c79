-- 0018_token_still_valid: whether a token still holds (not revoked, not expired), for responses
-- that outlive their authentication: a live alert stream looks every few seconds and ends when its
-- token is revoked or expires (issue 21, item 4). Like centinela_authenticate, the service reads
-- no token table: it asks this function about the token it was given.
CREATE FUNCTION centinela_token_valid(token uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT EXISTS (
        SELECT 1 FROM api_tokens t
        WHERE t.id = token AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()))
$$;
REVOKE ALL ON FUNCTION centinela_token_valid(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION centinela_token_valid(uuid) TO centinela_service;
