-- ohlc_filled: ohlc with its empty buckets filled the conventional way, flagged.
-- depends_on: ohlc
--
-- Between a market's first and last bar of each interval, a bucket without trades gets a bar flat
-- at the previous close (open = high = low = close), zero volumes and trades, and filled = true.
CREATE OR REPLACE VIEW ohlc_filled AS
WITH widths("interval", width) AS (VALUES ('1m', INTERVAL 1 MINUTE), ('5m', INTERVAL 5 MINUTE),
    ('15m', INTERVAL 15 MINUTE), ('1h', INTERVAL 1 HOUR), ('4h', INTERVAL 4 HOUR), ('1d', INTERVAL 1 DAY)),
spans AS (
    SELECT o.exchange, o.market, o."interval", w.width, min(o.bucket) AS first, max(o.bucket) AS last
    FROM ohlc AS o JOIN widths AS w USING ("interval") GROUP BY ALL
),
grid AS (
    SELECT exchange, market, "interval", unnest(generate_series(first, last, width)) AS bucket FROM spans
),
joined AS (
    SELECT g.exchange, g.market, g."interval", g.bucket, o.open, o.high, o.low, o.close, o.volume, o.quote_volume,
        o.vwap, o.trades, o.volume_primary, o.quote_volume_primary, o.bucket IS NULL AS filled,
        last_value(o.close IGNORE NULLS) OVER (PARTITION BY g.exchange, g.market, g."interval" ORDER BY g.bucket
                                               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS carried
    FROM grid AS g LEFT JOIN ohlc AS o USING (exchange, market, "interval", bucket)
)
SELECT exchange, market, "interval", bucket,
    coalesce(open, carried) AS open, coalesce(high, carried) AS high, coalesce(low, carried) AS low,
    coalesce(close, carried) AS close, coalesce(volume, 0) AS volume, coalesce(quote_volume, 0) AS quote_volume,
    coalesce(vwap, carried) AS vwap, coalesce(trades, 0) AS trades, coalesce(volume_primary, 0) AS volume_primary,
    coalesce(quote_volume_primary, 0) AS quote_volume_primary, filled
FROM joined;
