-- 0030_link_holds: why a pair whose score says "link" waits for a regulator instead.
--
-- The model holds some pairs for review whatever their score (docs/linking.md, "Never on names
-- alone"): different surnames, different given names, namesakes elsewhere, a name the country
-- shares with others. Until now the reason was computed and dropped, and the review queue showed a
-- pair at "99 %" with nothing to say why the system had not joined it. Filled by each rebuild;
-- NULL for pairs proposed on their score alone (and for pairs found before this migration, until
-- the next rebuild).
ALTER TABLE adult_links ADD COLUMN held text
    CHECK (held IN ('surnames_differ', 'given_names_differ', 'namesakes_elsewhere', 'common_name'));
