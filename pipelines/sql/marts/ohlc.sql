-- ohlc: bars at 1m, 5m, 15m, 1h, 4h and 1d per (exchange, market), from trades.
-- depends_on: trades
--
-- Open and close are the first and last trade by (ts, tid), never by row order (rows are not data:
-- files and inserts reorder them). Volumes count every fill in the market's feed, primary or not,
-- as bitcoincharts published them; *_primary count only primary copies, for sums across currencies.
-- Buckets are UTC and aligned to midnight. Empty buckets have no row (ohlc_filled fills them).
--
-- Incremental: only the days this build's new trades fall on are recomputed, whole (every interval
-- of a day lies inside it), from all the trades of those days; late trades are therefore counted.
-- Higher intervals are rolled up from the 1-minute bars of the same days.
CREATE TABLE IF NOT EXISTS ohlc (
    exchange VARCHAR NOT NULL,
    market VARCHAR NOT NULL,
    "interval" VARCHAR NOT NULL,
    bucket TIMESTAMPTZ NOT NULL,
    open DECIMAL(18, 8) NOT NULL,
    high DECIMAL(18, 8) NOT NULL,
    low DECIMAL(18, 8) NOT NULL,
    close DECIMAL(18, 8) NOT NULL,
    volume DECIMAL(38, 8) NOT NULL,
    quote_volume DECIMAL(38, 16) NOT NULL,
    vwap DECIMAL(38, 12) NOT NULL,
    trades BIGINT NOT NULL,
    volume_primary DECIMAL(38, 8) NOT NULL,
    quote_volume_primary DECIMAL(38, 16) NOT NULL
);
COMMENT ON TABLE ohlc IS 'OHLC bars per exchange, market and interval (1m 5m 15m 1h 4h 1d); empty buckets have no row';
COMMENT ON COLUMN ohlc."interval" IS 'Bar width: 1m, 5m, 15m, 1h, 4h or 1d';
COMMENT ON COLUMN ohlc.bucket IS 'Start of the bar, UTC, aligned to midnight';
COMMENT ON COLUMN ohlc.open IS 'Price of the first trade by (ts, tid)';
COMMENT ON COLUMN ohlc.high IS 'Highest price';
COMMENT ON COLUMN ohlc.low IS 'Lowest price';
COMMENT ON COLUMN ohlc.close IS 'Price of the last trade by (ts, tid)';
COMMENT ON COLUMN ohlc.volume IS 'Sum of amounts of every fill in the feed (primary or not), exact';
COMMENT ON COLUMN ohlc.quote_volume IS 'Sum of price times amount, exact';
COMMENT ON COLUMN ohlc.vwap IS 'quote_volume / volume, rounded half up to 12 decimals';
COMMENT ON COLUMN ohlc.trades IS 'Number of trades';
COMMENT ON COLUMN ohlc.volume_primary IS 'Sum of amounts of primary fills only (not the second copy of a fill between currencies)';
COMMENT ON COLUMN ohlc.quote_volume_primary IS 'Sum of price times amount of primary fills only';

CREATE OR REPLACE TEMP TABLE ohlc_days AS
SELECT DISTINCT exchange, market, date_trunc('day', ts) AS day FROM trades_new;

DELETE FROM ohlc WHERE (exchange, market, date_trunc('day', bucket)) IN (SELECT (exchange, market, day) FROM ohlc_days);

CREATE OR REPLACE TEMP TABLE ohlc_1m AS
SELECT exchange, market, time_bucket(INTERVAL 1 MINUTE, ts) AS bucket,
    arg_min(price, (ts, tid)) AS open, max(price) AS high, min(price) AS low, arg_max(price, (ts, tid)) AS close,
    sum(amount) AS volume, sum(CAST(price AS DECIMAL(38, 8)) * amount) AS quote_volume, count(*) AS trades,
    coalesce(sum(amount) FILTER (WHERE "primary" IS NOT false), 0) AS volume_primary,
    coalesce(sum(CAST(price AS DECIMAL(38, 8)) * amount) FILTER (WHERE "primary" IS NOT false), 0) AS quote_volume_primary
FROM trades
WHERE ts >= (SELECT min(day) FROM ohlc_days) AND ts < (SELECT max(day) FROM ohlc_days) + INTERVAL 1 DAY
  AND (exchange, market, date_trunc('day', ts)) IN (SELECT (exchange, market, day) FROM ohlc_days)
GROUP BY ALL;

INSERT INTO ohlc
WITH widths(name, width) AS (VALUES ('5m', INTERVAL 5 MINUTE), ('15m', INTERVAL 15 MINUTE), ('1h', INTERVAL 1 HOUR),
                                    ('4h', INTERVAL 4 HOUR), ('1d', INTERVAL 1 DAY)),
bars AS (
    SELECT exchange, market, '1m' AS "interval", bucket, open, high, low, close, volume, quote_volume, trades,
        volume_primary, quote_volume_primary
    FROM ohlc_1m
    UNION ALL
    SELECT exchange, market, w.name, time_bucket(w.width, bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS wide,
        arg_min(open, bucket), max(high), min(low), arg_max(close, bucket), sum(volume), sum(quote_volume),
        sum(trades), sum(volume_primary), sum(quote_volume_primary)
    FROM ohlc_1m CROSS JOIN widths AS w
    GROUP BY exchange, market, w.name, wide
)
SELECT exchange, market, "interval", bucket, open, high, low, close, volume, quote_volume,
    exact_ratio(quote_volume, volume) AS vwap, trades, volume_primary, quote_volume_primary
FROM bars
ORDER BY exchange, market, "interval", bucket;
