-- ohlc_at: bars of any width from trades, a table macro: SELECT * FROM ohlc_at(INTERVAL 2 HOUR).
-- depends_on: trades
--
-- The same definitions as ohlc (open and close by (ts, tid), every fill counted), computed on the
-- fly; buckets are aligned to 2000-01-01 00:00 UTC, so any width that divides a day starts at midnight.
CREATE OR REPLACE MACRO ohlc_at(width) AS TABLE
SELECT exchange, market, time_bucket(width, ts, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
    arg_min(price, (ts, tid)) AS open, max(price) AS high, min(price) AS low, arg_max(price, (ts, tid)) AS close,
    sum(amount) AS volume, sum(CAST(price AS DECIMAL(38, 8)) * amount) AS quote_volume,
    exact_ratio(sum(CAST(price AS DECIMAL(38, 8)) * amount), sum(amount)) AS vwap, count(*) AS trades,
    coalesce(sum(amount) FILTER (WHERE "primary" IS NOT false), 0) AS volume_primary,
    coalesce(sum(CAST(price AS DECIMAL(38, 8)) * amount) FILTER (WHERE "primary" IS NOT false), 0) AS quote_volume_primary
FROM trades
GROUP BY ALL
ORDER BY exchange, market, bucket;
