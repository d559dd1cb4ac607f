-- coverage_holes: tid ranges between fetched ranges that no gap lists.
--
-- Per (exchange, market), fetched ranges (after_tid, through_tid] are merged; a hole is the space
-- between the end of one merged run and the start of the next. A hole must be listed as a gap (open,
-- or closed by a backfill); the collector records the June 2011 jump across tids as coverage.
WITH ranges AS (
    SELECT exchange, market, after_tid, through_tid,
        max(through_tid) OVER (PARTITION BY exchange, market ORDER BY after_tid, through_tid
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
    FROM coverage
),
holes AS (
    SELECT exchange, market, reach AS after_tid, after_tid AS through_tid
    FROM ranges WHERE reach IS NOT NULL AND after_tid > reach
)
SELECT h.exchange, h.market, h.after_tid, h.through_tid
FROM holes AS h
WHERE NOT EXISTS (SELECT 1 FROM gaps AS g WHERE g.exchange = h.exchange AND g.market = h.market
                  AND g.after_tid <= h.after_tid AND coalesce(g.through_tid, 9223372036854775807) >= h.through_tid)
ORDER BY h.exchange, h.market, h.after_tid
