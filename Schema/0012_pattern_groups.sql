-- 0012_pattern_groups: the groups inside a pattern (docs/linking.md, section 2; decision 30).
--
-- A style pattern (kind 'modus_operandi') may be one group or several that share a method. Its
-- groups are the facilities an adult ties together (the same person, or a pair waiting in the
-- review queue); a facility no adult ties to another is a group alone. A network is one group.
-- The sizes are the pattern's, over every jurisdiction (largest first); each report row says which
-- group its facility is in, so a regulator sees the groups of their own facilities.
ALTER TABLE patterns ADD COLUMN group_sizes integer[] NOT NULL DEFAULT '{}';
ALTER TABLE pattern_reports ADD COLUMN facility_group smallint NOT NULL DEFAULT 0 CHECK (facility_group >= 0);
