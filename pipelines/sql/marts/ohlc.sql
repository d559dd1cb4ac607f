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
-- Higher intervals are rolled up from the 1-minute bars of the same days, in integers.
--
-- Stored as `ohlc_stored`, integers (prices in 1e-8, quote volume in 1e-16 units), which DuckDB writes
-- and packs fast; `ohlc` is the view everyone queries, with exact DECIMALs and the VWAP.
CREATE TABLE IF NOT EXISTS ohlc_stored (
    exchange VARCHAR NOT NULL,
    market VARCHAR NOT NULL,
    minutes SMALLINT NOT NULL,
    start BIGINT NOT NULL,
    open BIGINT NOT NULL,
    high BIGINT NOT NULL,
    low BIGINT NOT NULL,
    close BIGINT NOT NULL,
    volume BIGINT NOT NULL,
    quote_volume HUGEINT NOT NULL,
    trades BIGINT NOT NULL,
    volume_primary BIGINT NOT NULL,
    quote_volume_primary HUGEINT NOT NULL
);
COMMENT ON TABLE ohlc_stored IS 'The storage of ohlc (query the view ohlc): integers in 1e-8 (prices, volumes) and 1e-16 (quote volumes) units';
COMMENT ON COLUMN ohlc_stored.minutes IS 'The bar''s width in minutes: 1, 5, 15, 60, 240 or 1440';
COMMENT ON COLUMN ohlc_stored.start IS 'The bar''s start in minutes since the epoch';
COMMENT ON COLUMN ohlc_stored.open IS 'Open in 1e-8 units of the price currency';
COMMENT ON COLUMN ohlc_stored.high IS 'High in 1e-8 units';
COMMENT ON COLUMN ohlc_stored.low IS 'Low in 1e-8 units';
COMMENT ON COLUMN ohlc_stored.close IS 'Close in 1e-8 units';
COMMENT ON COLUMN ohlc_stored.volume IS 'Volume in 1e-8 units of the item';
COMMENT ON COLUMN ohlc_stored.quote_volume IS 'Quote volume in 1e-16 units of the price currency';
COMMENT ON COLUMN ohlc_stored.trades IS 'As in ohlc';
COMMENT ON COLUMN ohlc_stored.volume_primary IS 'volume_primary in 1e-8 units';
COMMENT ON COLUMN ohlc_stored.quote_volume_primary IS 'quote_volume_primary in 1e-16 units';

CREATE OR REPLACE VIEW ohlc AS
SELECT exchange, market,
    CASE minutes WHEN 1 THEN '1m' WHEN 5 THEN '5m' WHEN 15 THEN '15m' WHEN 60 THEN '1h' WHEN 240 THEN '4h'
                 WHEN 1440 THEN '1d' END AS "interval",
    CAST(make_timestamp(start * 60000000) AS TIMESTAMPTZ) AS bucket,
    CAST(open AS DECIMAL(18, 0)) * 0.00000001 AS open,
    CAST(high AS DECIMAL(18, 0)) * 0.00000001 AS high,
    CAST(low AS DECIMAL(18, 0)) * 0.00000001 AS low,
    CAST(close AS DECIMAL(18, 0)) * 0.00000001 AS close,
    CAST(volume AS DECIMAL(38, 0)) * 0.00000001 AS volume,
    CAST(quote_volume AS DECIMAL(38, 0)) * 0.0000000000000001 AS quote_volume,
    -- VWAP in 1e-12 units, rounded half up: (2 q 10^4 + v) // 2 v, with q in 1e-16 and v in 1e-8.
    CAST(CASE WHEN volume > 0 THEN (quote_volume * 20000 + volume) // (2 * volume) END AS DECIMAL(38, 0))
        * 0.000000000001 AS vwap,
    trades,
    CAST(volume_primary AS DECIMAL(38, 0)) * 0.00000001 AS volume_primary,
    CAST(quote_volume_primary AS DECIMAL(38, 0)) * 0.0000000000000001 AS quote_volume_primary
FROM ohlc_stored;
COMMENT ON VIEW ohlc IS 'OHLC bars per exchange, market and interval (1m 5m 15m 1h 4h 1d); empty buckets have no row';
COMMENT ON COLUMN ohlc."interval" IS 'Bar width: 1m, 5m, 15m, 1h, 4h or 1d';
COMMENT ON COLUMN ohlc.bucket IS 'Start of the bar, UTC, aligned to midnight';
COMMENT ON COLUMN ohlc.open IS 'Price of the first trade by (ts, tid)';
COMMENT ON COLUMN ohlc.high IS 'Highest price';
COMMENT ON COLUMN ohlc.low IS 'Lowest price';
COMMENT ON COLUMN ohlc.close IS 'Price of the last trade by (ts, tid)';
COMMENT ON COLUMN ohlc.volume IS 'Sum of amounts of every fill in the feed (primary or not), exact';
COMMENT ON COLUMN ohlc.quote_volume IS 'Sum of price times amount, exact';
COMMENT ON COLUMN ohlc.vwap IS 'quote_volume / volume, rounded half up to 12 decimals (NULL when volume is 0)';
COMMENT ON COLUMN ohlc.trades IS 'Number of trades';
COMMENT ON COLUMN ohlc.volume_primary IS 'Sum of amounts of primary fills only (not the second copy of a fill between currencies)';
COMMENT ON COLUMN ohlc.quote_volume_primary IS 'Sum of price times amount of primary fills only';

CREATE OR REPLACE TEMP TABLE ohlc_days AS SELECT * FROM trades_new_days;

DELETE FROM ohlc_stored
WHERE (exchange, market, start // 1440) IN (SELECT (exchange, market, day) FROM ohlc_days);
-- The arithmetic is on integers, from the storage: prices in 1e-8 units, quote volume in 1e-16.
-- (ts, tid) order is one HUGEINT key, ts_us * 2^64 + tid: cheaper to compare than a struct.
CREATE OR REPLACE TEMP TABLE ohlc_1m AS
WITH fills AS (
    SELECT exchange, market, tid + ts_offset_us AS ts_us,
        CAST(tid + ts_offset_us AS HUGEINT) * 18446744073709551616 + tid AS ordering,
        price_units * pow10_int(8 - price_decimals) AS p, amount_units * pow10_int(8 - amount_decimals) AS a,
        "primary" IS NOT false AS counted_once
    FROM trades_stored
    WHERE tid + ts_offset_us >= (SELECT min(day) FROM ohlc_days) * 86400000000
      AND tid + ts_offset_us < (SELECT max(day) + 1 FROM ohlc_days) * 86400000000
      AND (exchange, market, (tid + ts_offset_us) // 86400000000) IN (SELECT (exchange, market, day) FROM ohlc_days)
)
SELECT exchange, market, 1 AS minutes, ts_us // 60000000 AS start,
    arg_min(p, ordering) AS open, max(p) AS high, min(p) AS low, arg_max(p, ordering) AS close,
    sum(a) AS volume, sum(p::HUGEINT * a) AS quote_volume, count(*) AS trades,
    coalesce(sum(a) FILTER (WHERE counted_once), 0) AS volume_primary,
    coalesce(sum(p::HUGEINT * a) FILTER (WHERE counted_once), 0) AS quote_volume_primary
FROM fills
GROUP BY ALL;

-- Each width rolls up from the one before (minutes since the epoch divide into every width from
-- midnight UTC on), so each step reads a fraction of the rows of the 1-minute bars.
CREATE OR REPLACE TEMP MACRO ohlc_rollup(finer, width) AS TABLE
SELECT exchange, market, width AS minutes, start // width * width AS start,
    arg_min(open, start) AS open, max(high) AS high, min(low) AS low, arg_max(close, start) AS close,
    sum(volume) AS volume, sum(quote_volume) AS quote_volume, sum(trades) AS trades,
    sum(volume_primary) AS volume_primary, sum(quote_volume_primary) AS quote_volume_primary
FROM query_table(finer)
GROUP BY exchange, market, start // width * width;

CREATE OR REPLACE TEMP TABLE ohlc_5m AS SELECT * FROM ohlc_rollup('ohlc_1m', 5);
CREATE OR REPLACE TEMP TABLE ohlc_15m AS SELECT * FROM ohlc_rollup('ohlc_5m', 15);
CREATE OR REPLACE TEMP TABLE ohlc_1h AS SELECT * FROM ohlc_rollup('ohlc_15m', 60);
CREATE OR REPLACE TEMP TABLE ohlc_4h AS SELECT * FROM ohlc_rollup('ohlc_1h', 240);
CREATE OR REPLACE TEMP TABLE ohlc_1d AS SELECT * FROM ohlc_rollup('ohlc_4h', 1440);

INSERT INTO ohlc_stored
SELECT exchange, market, minutes, start,
    open, high, low, close, volume, quote_volume, trades, volume_primary, quote_volume_primary
FROM (SELECT * FROM ohlc_1m UNION ALL SELECT * FROM ohlc_5m UNION ALL SELECT * FROM ohlc_15m
      UNION ALL SELECT * FROM ohlc_1h UNION ALL SELECT * FROM ohlc_4h UNION ALL SELECT * FROM ohlc_1d);
