-- 0026_review_queue_index: the review queue's candidates found by an index that holds exactly them.
--
-- The queue (LinkReviewStore.pending) lists pairs sent to review and weak links, strongest first.
-- PostgreSQL checks a row's row-level policy before the query's own conditions (it may not let a
-- condition see a row the caller may not), and adult_links' policy looks up both records and their
-- facilities: every one of a national register's pairs was checked (11,000; 0.2–0.36 s per page)
-- to keep the 1,400 candidates. Through this index only the candidates are (0.05 s).
CREATE INDEX adult_links_queue_idx ON adult_links (score DESC, record_a, record_b)
    WHERE verdict = 'review' OR (verdict = 'link' AND score < 5.0);
