-- ohlc_recomputed: bars that differ from a recomputation from trades (each side's extra rows).
--
-- Recomputes every interval straight from trades with ohlc_at (no roll-up), so it also checks the
-- incremental path: a day that was not recomputed after late trades shows up here.
WITH widths("interval", width) AS (VALUES ('1m', INTERVAL 1 MINUTE), ('5m', INTERVAL 5 MINUTE),
    ('15m', INTERVAL 15 MINUTE), ('1h', INTERVAL 1 HOUR), ('4h', INTERVAL 4 HOUR), ('1d', INTERVAL 1 DAY)),
fresh AS (
    SELECT exchange, market, w."interval", bucket, open, high, low, close, volume, quote_volume, trades,
        volume_primary, quote_volume_primary
    FROM widths AS w, ohlc_at(w.width)
),
stored AS (
    SELECT exchange, market, "interval", bucket, open, high, low, close, volume, quote_volume, trades,
        volume_primary, quote_volume_primary
    FROM ohlc
)
(SELECT 'stored, not recomputed' AS problem, * FROM (SELECT * FROM stored EXCEPT ALL SELECT * FROM fresh))
UNION ALL
(SELECT 'recomputed, not stored' AS problem, * FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM stored))
ORDER BY exchange, market, "interval", bucket
