-- 0028_audit_sequencer: writers append audit events without a lock; one sequencer chains them
-- (issue 24, decision 43).
--
-- Until now every writing transaction extended the hash chain itself, under one global advisory
-- lock held to commit: ingest ran one transaction at a time. Now a writer inserts its event into
-- audit_pending, a plain table with an identity key (no lock beyond the row it inserts), and the
-- sequencer (one process at a time, chosen by advisory lock: `centinela serve`, or a command-line
-- writer when no server runs) moves pending events into audit_events in batches within a second,
-- giving each its position, the previous hash and its own hash, computed in Swift (the same bytes
-- as audit_event_digest, which stays for reading), and extends the Merkle tree whose signed
-- checkpoints are kept outside the database.
--
-- Existing chains carry over unchanged: the rows already in audit_events are the log's first
-- entries, and the sequencer builds the tree's frontier from them the first time it runs.

CREATE TABLE audit_pending (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    request_id   text        NOT NULL CHECK (length(request_id) <= 128),
    actor_token  uuid,
    actor_role   text        CHECK (actor_role IN ('school', 'regulator', 'admin', 'system')),
    action       text        NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    object_type  text        NOT NULL CHECK (length(object_type) <= 64),
    object_id    text        CHECK (length(object_id) <= 128),
    outcome      text        NOT NULL CHECK (outcome IN ('ok', 'denied', 'not_found', 'invalid', 'error')),
    details      jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object')
);
-- The service appends and nothing else: it cannot read, change or remove a pending event.
GRANT INSERT ON audit_pending TO centinela_service;

-- The chain is the sequencer's alone now: no lock, no trigger computing hashes, no service insert.
DROP TRIGGER audit_events_chain ON audit_events;
DROP FUNCTION audit_events_chain();
REVOKE INSERT ON audit_events FROM centinela_service;

-- Where the sequencer stands: the log's size, the last event's hash (the next one's prev_hash)
-- and the tree's frontier (the roots of its perfect subtrees, largest first, 32 bytes each). One
-- row; absent until the sequencer's first run, which builds it from the events already chained.
CREATE TABLE audit_log_head (
    only_row   boolean     PRIMARY KEY DEFAULT true CHECK (only_row),
    size       bigint      NOT NULL CHECK (size >= 0),
    last_hash  bytea       NOT NULL CHECK (octet_length(last_hash) = 32),
    frontier   bytea       NOT NULL CHECK (octet_length(frontier) % 32 = 0),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Signed checkpoints, kept here as a convenience copy for `audit prove` and for regulators to
-- fetch. They prove nothing by being here: their worth is the signature, by a key the database
-- never holds, and the copies kept outside it.
CREATE TABLE audit_checkpoints (
    size      bigint      PRIMARY KEY CHECK (size >= 0),
    root      bytea       NOT NULL CHECK (octet_length(root) = 32),
    note      text        NOT NULL,
    signed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- What reports hold is in the log too: a rewritten narrative, an added or removed adult, a deleted
-- amendment must show. Every report and amendment inserted (by the API, an import, a simulation
-- load: one statement-level trigger each, no lock) is queued here; the sequencer reads what it
-- holds once committed and appends a `report.sealed` or `amendment.sealed` event carrying the
-- SHA-256 of its contents, computed in Swift (decision 43). `audit verify` reads every sealed
-- report again and compares.
CREATE TABLE audit_seal_queue (
    seq  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text   NOT NULL CHECK (kind IN ('report', 'amendment')),
    id   uuid   NOT NULL
);

-- The trigger's argument says what was inserted: 'report' or 'amendment'.
CREATE FUNCTION centinela_queue_for_seal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO audit_seal_queue (kind, id) SELECT TG_ARGV[0], id FROM arrived;
    RETURN NULL;
END;
$$;
CREATE TRIGGER incident_reports_seal AFTER INSERT ON incident_reports
    REFERENCING NEW TABLE AS arrived FOR EACH STATEMENT EXECUTE FUNCTION centinela_queue_for_seal('report');
CREATE TRIGGER report_amendments_seal AFTER INSERT ON report_amendments
    REFERENCING NEW TABLE AS arrived FOR EACH STATEMENT EXECUTE FUNCTION centinela_queue_for_seal('amendment');

-- The reports and amendments already here are sealed by the sequencer's first rounds, oldest first
-- (read in the system scope: row-level security applies to the owner too).
SELECT set_config('centinela.role', 'system', true);
INSERT INTO audit_seal_queue (kind, id)
    SELECT kind, id FROM (
        SELECT 'report' AS kind, id, received_at AS at FROM incident_reports
        UNION ALL
        SELECT 'amendment', id, amended_at FROM report_amendments) existing
    ORDER BY at, id;
