-- 0018_report_shares: risk model v2 weighs each report by how rarely its peers' reports carry the
-- same features (several adults named together, a severe category, each tactic). A full rescoring
-- counts them per facility kind and jurisdiction over the model's lookback window and publishes the
-- counts here; every computation after it shrinks them towards the kind's and the country's
-- (docs/risk-model.md, "v2: peers").
-- One row per kind and jurisdiction; per kind for the whole country (jurisdiction NULL); and one
-- for every kind in the whole country (kind '*', jurisdiction NULL). Replaced whole by each run.
CREATE TABLE risk_report_shares (
    kind             text             NOT NULL,
    jurisdiction_id  uuid             REFERENCES jurisdictions (id),
    reports          double precision NOT NULL CHECK (reports >= 0),
    -- {"adults>=2": 14, "tag:filming": 3, ...}: reports carrying each feature.
    counts           jsonb            NOT NULL CHECK (jsonb_typeof(counts) = 'object'),
    computed_at      timestamptz      NOT NULL
);
CREATE UNIQUE INDEX risk_report_shares_group_idx ON risk_report_shares (kind, jurisdiction_id) NULLS NOT DISTINCT;

ALTER TABLE risk_report_shares ENABLE ROW LEVEL SECURITY;
ALTER TABLE risk_report_shares FORCE ROW LEVEL SECURITY;
CREATE POLICY risk_report_shares_system ON risk_report_shares FOR ALL
    USING (centinela_scope_role() = 'system') WITH CHECK (centinela_scope_role() = 'system');
GRANT SELECT, INSERT, UPDATE, DELETE ON risk_report_shares TO centinela_service;

-- How every facility's total was spread at the last full run, as 1,001 quantiles (0 %, 0.1 % …
-- 100 %): the API places a score among all facilities' (issue 20: "a percentile beside the score")
-- although the caller may see only its own facilities' scores. Figures only, no facility: any
-- scope reads it.
CREATE TABLE risk_score_distribution (
    id           boolean          PRIMARY KEY DEFAULT true CHECK (id),
    model_id     text             NOT NULL,
    facilities   integer          NOT NULL CHECK (facilities >= 0),
    quantiles    double precision[] NOT NULL CHECK (cardinality(quantiles) = 1001),
    computed_at  timestamptz      NOT NULL
);
ALTER TABLE risk_score_distribution ENABLE ROW LEVEL SECURITY;
ALTER TABLE risk_score_distribution FORCE ROW LEVEL SECURITY;
CREATE POLICY risk_score_distribution_read ON risk_score_distribution FOR SELECT USING (true);
CREATE POLICY risk_score_distribution_write ON risk_score_distribution FOR ALL
    USING (centinela_scope_role() = 'system') WITH CHECK (centinela_scope_role() = 'system');
GRANT SELECT, INSERT, UPDATE ON risk_score_distribution TO centinela_service;
