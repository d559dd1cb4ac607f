-- coverage: the trade ranges the collector fetched, per (exchange, market), as it recorded them.
--
-- Replaced whole at every build from data/meta/coverage.parquet (the collector's own account).
CREATE OR REPLACE TABLE coverage AS
SELECT exchange, market, after_tid, through_tid, utc_us(first_us) AS first_ts, utc_us(last_us) AS last_ts,
    trades, record_id, utc_us(fetched_us) AS fetched_at
FROM meta_coverage
ORDER BY exchange, market, after_tid, through_tid;
COMMENT ON TABLE coverage IS 'Trade ranges fetched: every tid in (after_tid, through_tid] was received';
COMMENT ON COLUMN coverage.after_tid IS 'The since= cursor of the page (exclusive)';
COMMENT ON COLUMN coverage.through_tid IS 'Highest tid covered (inclusive)';
COMMENT ON COLUMN coverage.first_ts IS 'Time of the first trade in the range, UTC';
COMMENT ON COLUMN coverage.last_ts IS 'Time of the last trade in the range, UTC';
COMMENT ON COLUMN coverage.trades IS 'Trades the page held';
COMMENT ON COLUMN coverage.record_id IS 'The raw record of the page';
COMMENT ON COLUMN coverage.fetched_at IS 'When it was fetched, UTC';
