-- 0033_stream_sequenced: alert and case events are written without a lock; one sequencer gives
-- them their place in the live stream (issue 24, decision 46).
--
-- Until now every writer of an alert or case event took one advisory lock before drawing its id
-- and held it to commit (0005, 0015), so that ids became visible in id order and a stream resuming
-- after id N could never later find an event below N. A regulator's transition waited for every
-- other writer of events — the rescoring worker opening a facility's alerts, a case's filing — to
-- commit. Now writers append freely: each event is queued in stream_pending (a plain table, by
-- trigger), and the stream sequencer (one at a time, chosen by advisory lock: a server's, woken by
-- the events' notification at commit, or a command-line writer's before it exits) gives the
-- queued events their positions in stream_events, one batch per transaction. Batches commit one
-- after another, so positions become visible in order, and the live stream reads by position:
-- an event committed late gets a later position, never one below what a client has seen.
--
-- Events already here keep their id as their position: a client holding a Last-Event-ID from
-- before resumes exactly where it was.

DROP TRIGGER alert_events_in_order ON alert_events;
DROP TRIGGER case_events_in_order ON case_events;
DROP FUNCTION centinela_alert_events_in_order();

-- The live stream's order: one row per alert or case event. It says nothing by itself (ids only);
-- what a reader may see of it is what row-level security lets it join.
CREATE TABLE stream_events (
    position       bigint PRIMARY KEY CHECK (position > 0),
    alert_event_id bigint UNIQUE REFERENCES alert_events (id),
    case_event_id  bigint UNIQUE REFERENCES case_events (id),
    CHECK ((alert_event_id IS NULL) <> (case_event_id IS NULL))
);
CREATE TRIGGER stream_events_append_only BEFORE UPDATE OR DELETE ON stream_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change_to_append_only();
GRANT SELECT ON stream_events TO centinela_service;

-- Events appended and not yet placed. The service neither reads nor writes it: the triggers
-- below fill it (as its owner), the sequencer empties it.
CREATE TABLE stream_pending (
    seq            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_event_id bigint,
    case_event_id  bigint,
    queued_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((alert_event_id IS NULL) <> (case_event_id IS NULL))
);

-- The trigger's argument says which kind of event was inserted: 'alert' or 'case'.
CREATE FUNCTION centinela_queue_for_stream() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_ARGV[0] = 'alert' THEN
        INSERT INTO stream_pending (alert_event_id) SELECT id FROM appended ORDER BY id;
    ELSE
        INSERT INTO stream_pending (case_event_id) SELECT id FROM appended ORDER BY id;
    END IF;
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION centinela_queue_for_stream() FROM PUBLIC;
CREATE TRIGGER alert_events_stream AFTER INSERT ON alert_events
    REFERENCING NEW TABLE AS appended FOR EACH STATEMENT EXECUTE FUNCTION centinela_queue_for_stream('alert');
CREATE TRIGGER case_events_stream AFTER INSERT ON case_events
    REFERENCING NEW TABLE AS appended FOR EACH STATEMENT EXECUTE FUNCTION centinela_queue_for_stream('case');

-- What the two sequencers have not taken yet, for /metrics (an operator's alert when either
-- stalls): counts and the oldest's age, nothing of what the events say. The audit log's count
-- includes the reports and amendments waiting for their seal.
CREATE FUNCTION centinela_sequencer_backlog(
    OUT audit_pending bigint, OUT audit_oldest_seconds double precision,
    OUT stream_pending bigint, OUT stream_oldest_seconds double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT (SELECT count(*) FROM audit_pending) + (SELECT count(*) FROM audit_seal_queue),
           coalesce(extract(epoch FROM now() - (SELECT min(occurred_at) FROM audit_pending)), 0)::double precision,
           (SELECT count(*) FROM stream_pending),
           coalesce(extract(epoch FROM now() - (SELECT min(queued_at) FROM stream_pending)), 0)::double precision
$$;
REVOKE ALL ON FUNCTION centinela_sequencer_backlog() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION centinela_sequencer_backlog() TO centinela_service;

-- The events already recorded, in the system scope (row-level security applies to the owner too).
SELECT set_config('centinela.role', 'system', true);
INSERT INTO stream_events (position, alert_event_id) SELECT id, id FROM alert_events;
INSERT INTO stream_events (position, case_event_id) SELECT id, id FROM case_events;
