-- 0011_weak_links: regulators decide on weak links too (docs/linking.md, decision 29).
--
-- A pair is linked automatically from even odds; the links below 32 to 1 stay open to a
-- regulator, who confirms one (accept) or breaks it (reject), as they accept or reject the pairs
-- below even odds. Which links are open is the service's to say (its confirmation threshold);
-- the database still refuses a decision on a pair the linking did not find, or that the regulator
-- may not see both sides of.
DROP POLICY adult_link_decisions_regulator_insert ON adult_link_decisions;
CREATE POLICY adult_link_decisions_regulator_insert ON adult_link_decisions FOR INSERT
    WITH CHECK ((SELECT centinela_scope_role()) = 'regulator'
                AND actor_id = nullif(current_setting('centinela.token', true), '')::uuid
                AND EXISTS (SELECT 1 FROM adult_links l
                            WHERE l.record_a = adult_link_decisions.record_a AND l.record_b = adult_link_decisions.record_b));
