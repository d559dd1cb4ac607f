-- gaps: trade ranges the collector could not fetch, and why; closed ones keep when they were closed.
--
-- Replaced whole at every build from data/meta/gaps.parquet.
CREATE OR REPLACE TABLE gaps AS
SELECT id, exchange, market, after_tid, through_tid, reason, utc_us(opened_us) AS opened_at,
    utc_us(closed_us) AS closed_at, closed_us IS NULL AS open
FROM meta_gaps
ORDER BY exchange, market, after_tid;
COMMENT ON TABLE gaps IS 'Trade ranges that could not be fetched (open) or were later backfilled (closed)';
COMMENT ON COLUMN gaps.after_tid IS 'The range starts after this tid';
COMMENT ON COLUMN gaps.through_tid IS 'and ends at this tid (NULL: up to wherever the feed continued)';
COMMENT ON COLUMN gaps.reason IS 'Why it could not be fetched (error classes of the attempts)';
COMMENT ON COLUMN gaps.opened_at IS 'When the gap was recorded, UTC';
COMMENT ON COLUMN gaps.closed_at IS 'When a backfill closed it, UTC (NULL while open)';
COMMENT ON COLUMN gaps.open IS 'true while the range is still missing';
