-- 0019_link_decision_notify: a regulator's decision on a proposed pair of adult records wakes the
-- linking worker in `serve` at commit, which applies it (a linking update) so that persons,
-- patterns, ties and scores follow within seconds instead of after the nightly run (issue 20,
-- item 3). The decision itself is the durable record: a wake-up lost while the worker reconnects
-- is made up by its polling.
CREATE FUNCTION centinela_notify_link_decided() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('centinela_link_decided', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER adult_link_decisions_notify AFTER INSERT ON adult_link_decisions
    FOR EACH STATEMENT EXECUTE FUNCTION centinela_notify_link_decided();
