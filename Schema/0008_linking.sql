-- 0008_linking: adults linked across facilities, and reports linked by modus operandi.
--
-- Matching is computed by the service (Sources/CentinelaCore/Linking, docs/linking.md), never in
-- SQL: these tables keep the records as linking reads them, the pairs it found and why, the
-- regulators' review decisions (append-only, never re-proposed once rejected), the persons and the
-- patterns. Only the system scope reads and writes them for now; regulators' views come with the
-- linking API.

-- Every adult mention as linking reads it: a roster entry (id = adults.id) or a name written in a
-- report (id derived from the report and position, see centinela_mention_record_id). Names are
-- normalised by the service; block keys (Spanish phonetic keys) choose which pairs are compared.
CREATE TABLE adult_records (
    id                  uuid        PRIMARY KEY,
    source              text        NOT NULL CHECK (source IN ('roster', 'report')),
    facility_id         uuid        NOT NULL REFERENCES facilities (id),
    -- The report a written name comes from (NULL for roster entries).
    report_id           uuid,
    given               text[]      NOT NULL,
    paternal            text,
    maternal            text,
    role                text,
    date_of_birth       date,
    national_id_hmac    bytea       CHECK (octet_length(national_id_hmac) = 32),
    block_keys          text[]      NOT NULL,
    refreshed_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX adult_records_block_keys_idx ON adult_records USING gin (block_keys);
CREATE INDEX adult_records_national_id_idx ON adult_records (national_id_hmac) WHERE national_id_hmac IS NOT NULL;
CREATE INDEX adult_records_facility_idx ON adult_records (facility_id);

CREATE FUNCTION centinela_mention_record_id(report uuid, place smallint) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT md5(report::text || ':' || place::text)::uuid $$;

-- Pairs the model links outright or proposes for review, with the comparison levels and weights
-- that explain them. Replaced by each rebuild (the model decides again); decisions are not.
CREATE TABLE adult_links (
    record_a    uuid             NOT NULL,
    record_b    uuid             NOT NULL,
    verdict     text             NOT NULL CHECK (verdict IN ('link', 'review')),
    score       double precision NOT NULL,
    weight      double precision NOT NULL,
    prior       double precision NOT NULL,
    comparisons jsonb            NOT NULL CHECK (jsonb_typeof(comparisons) = 'array'),
    model_id    text             NOT NULL CHECK (length(model_id) BETWEEN 1 AND 40),
    found_at    timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (record_a, record_b),
    CHECK (record_a < record_b)
);
CREATE INDEX adult_links_review_idx ON adult_links (score DESC) WHERE verdict = 'review';
CREATE INDEX adult_links_b_idx ON adult_links (record_b);

-- A regulator's decision on a proposed pair: final, never altered (one per pair).
CREATE TABLE adult_link_decisions (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    record_a    uuid        NOT NULL,
    record_b    uuid        NOT NULL,
    decision    text        NOT NULL CHECK (decision IN ('accepted', 'rejected')),
    actor_id    uuid        NOT NULL REFERENCES api_tokens (id),
    actor       text        NOT NULL,
    note        text        CHECK (length(note) <= 2000),
    decided_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (record_a, record_b),
    CHECK (record_a < record_b)
);

-- Records grouped into persons; only persons of two or more records are kept.
CREATE TABLE adult_persons (
    record_id     uuid   NOT NULL PRIMARY KEY,
    person_id     uuid   NOT NULL,
    facility_id   uuid   NOT NULL REFERENCES facilities (id),
    -- Every jurisdiction holding a record of the person: a regulator sees their own side, and
    -- which other jurisdictions to contact.
    jurisdictions uuid[] NOT NULL DEFAULT '{}'
);
CREATE INDEX adult_persons_person_idx ON adult_persons (person_id);

-- Patterns spanning facilities: reports alike in modus operandi, or a network of adults implicated
-- together whose reports span facilities. A pattern's id is derived from its kind and first
-- report, so that it stays the same across rebuilds while that report remains in it.
CREATE TABLE patterns (
    id             uuid        PRIMARY KEY,
    kind           text        NOT NULL CHECK (kind IN ('modus_operandi', 'network')),
    -- Modus operandi: the features most of its reports share ('mo:disguise', ...).
    signature      text[]      NOT NULL,
    -- Network: the persons (adult_persons.person_id, or a lone record's id) implicated together.
    persons        uuid[]      NOT NULL DEFAULT '{}',
    facilities     integer     NOT NULL CHECK (facilities >= 2),
    reports        integer     NOT NULL CHECK (reports >= 2),
    -- Every jurisdiction whose facilities it spans: each regulator sees their own facilities'
    -- reports, and which other jurisdictions hold the rest.
    jurisdictions  uuid[]      NOT NULL,
    first_received timestamptz NOT NULL,
    last_received  timestamptz NOT NULL,
    found_at       timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE pattern_reports (
    pattern_id  uuid NOT NULL REFERENCES patterns (id) ON DELETE CASCADE,
    report_id   uuid NOT NULL REFERENCES incident_reports (id),
    facility_id uuid NOT NULL REFERENCES facilities (id),
    PRIMARY KEY (pattern_id, report_id)
);
CREATE INDEX pattern_reports_facility_idx ON pattern_reports (facility_id);

-- One rebuild at a time, recorded like rescore runs.
CREATE TABLE linking_runs (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome     text        NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'succeeded', 'failed')),
    records     integer,
    comparisons bigint,
    links       integer,
    reviews     integer,
    persons     integer,
    patterns    integer,
    error       text
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['adult_records', 'adult_links', 'adult_link_decisions', 'adult_persons', 'patterns',
                             'pattern_reports', 'linking_runs'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR ALL USING ((SELECT centinela_scope_role()) = ''system'') '
                       'WITH CHECK ((SELECT centinela_scope_role()) = ''system'')', t || '_system', t);
    END LOOP;
END $$;
-- Regulators review proposed pairs: they see a record when they may see its facility, a pair when
-- they see both records (a pair across states goes to the regulator above both), and add decisions
-- on pairs they see, as themselves. Decisions are never altered.
CREATE POLICY adult_records_regulator_read ON adult_records FOR SELECT
    USING ((SELECT centinela_scope_role()) = 'regulator' AND EXISTS (SELECT 1 FROM facilities f WHERE f.id = facility_id));
CREATE POLICY adult_links_regulator_read ON adult_links FOR SELECT
    USING ((SELECT centinela_scope_role()) = 'regulator'
           AND EXISTS (SELECT 1 FROM adult_records r WHERE r.id = record_a)
           AND EXISTS (SELECT 1 FROM adult_records r WHERE r.id = record_b));
CREATE POLICY adult_link_decisions_regulator_read ON adult_link_decisions FOR SELECT
    USING ((SELECT centinela_scope_role()) = 'regulator'
           AND EXISTS (SELECT 1 FROM adult_records r WHERE r.id = record_a)
           AND EXISTS (SELECT 1 FROM adult_records r WHERE r.id = record_b));
CREATE POLICY adult_link_decisions_regulator_insert ON adult_link_decisions FOR INSERT
    WITH CHECK ((SELECT centinela_scope_role()) = 'regulator'
                AND actor_id = nullif(current_setting('centinela.token', true), '')::uuid
                AND EXISTS (SELECT 1 FROM adult_links l
                            WHERE l.record_a = adult_link_decisions.record_a AND l.record_b = adult_link_decisions.record_b
                              AND l.verdict = 'review'));

-- Regulators see a pattern when they may see one of its facilities, and of its reports those of
-- the facilities they may see.
CREATE POLICY adult_persons_regulator_read ON adult_persons FOR SELECT
    USING ((SELECT centinela_scope_role()) = 'regulator' AND EXISTS (SELECT 1 FROM facilities f WHERE f.id = facility_id));
CREATE POLICY pattern_reports_regulator_read ON pattern_reports FOR SELECT
    USING ((SELECT centinela_scope_role()) = 'regulator' AND EXISTS (SELECT 1 FROM facilities f WHERE f.id = facility_id));
CREATE POLICY patterns_regulator_read ON patterns FOR SELECT
    USING ((SELECT centinela_scope_role()) = 'regulator' AND EXISTS (SELECT 1 FROM pattern_reports r WHERE r.pattern_id = id));

-- Decisions are never altered: the service role may add them, not change them.
GRANT SELECT, INSERT, DELETE ON adult_records, adult_links, adult_persons, patterns, pattern_reports TO centinela_service;
GRANT TRUNCATE ON adult_records TO centinela_service;
GRANT UPDATE ON adult_persons TO centinela_service;
GRANT SELECT, INSERT ON adult_link_decisions TO centinela_service;
GRANT SELECT, INSERT, UPDATE ON linking_runs TO centinela_service;
