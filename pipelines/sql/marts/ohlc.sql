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
-- Stored as `ohlc_stored`, integers (prices in 1e-8, quote volume in 1e-16 units) keyed by the market's number
-- (markets), which DuckDB groups, writes and packs fast, and `ohlc_second_copies`, the volumes of non-primary
-- fills per bar, only for the bars that have some (none at all in most feeds); `ohlc` is the view everyone
-- queries, with names, exact DECIMALs, the VWAP and the primary volumes.
CREATE TABLE IF NOT EXISTS ohlc_stored (
    market_key SMALLINT NOT NULL,
    minutes SMALLINT NOT NULL,
    start INTEGER NOT NULL,
    open BIGINT NOT NULL,
    high BIGINT NOT NULL,
    low BIGINT NOT NULL,
    close BIGINT NOT NULL,
    volume BIGINT NOT NULL,
    quote_volume HUGEINT NOT NULL,
    trades INTEGER NOT NULL
);
COMMENT ON TABLE ohlc_stored IS 'The storage of ohlc (query the view ohlc): integers in 1e-8 (prices, volumes) and 1e-16 (quote volumes) units';
COMMENT ON COLUMN ohlc_stored.market_key IS 'The (exchange, market) as numbered in markets';
COMMENT ON COLUMN ohlc_stored.minutes IS 'The bar''s width in minutes: 1, 5, 15, 60, 240 or 1440';
COMMENT ON COLUMN ohlc_stored.start IS 'The bar''s start in minutes since the epoch';
COMMENT ON COLUMN ohlc_stored.open IS 'Open in 1e-8 units of the price currency';
COMMENT ON COLUMN ohlc_stored.high IS 'High in 1e-8 units';
COMMENT ON COLUMN ohlc_stored.low IS 'Low in 1e-8 units';
COMMENT ON COLUMN ohlc_stored.close IS 'Close in 1e-8 units';
COMMENT ON COLUMN ohlc_stored.volume IS 'Volume in 1e-8 units of the item';
COMMENT ON COLUMN ohlc_stored.quote_volume IS 'Quote volume in 1e-16 units of the price currency';
COMMENT ON COLUMN ohlc_stored.trades IS 'As in ohlc';

CREATE TABLE IF NOT EXISTS ohlc_second_copies (
    market_key SMALLINT NOT NULL,
    minutes SMALLINT NOT NULL,
    start INTEGER NOT NULL,
    volume BIGINT NOT NULL,
    quote_volume HUGEINT NOT NULL
);
COMMENT ON TABLE ohlc_second_copies IS 'Per bar of ohlc_stored that has them, the volumes of its non-primary fills (the second copy of a fill between currencies)';
COMMENT ON COLUMN ohlc_second_copies.market_key IS 'As in ohlc_stored';
COMMENT ON COLUMN ohlc_second_copies.minutes IS 'As in ohlc_stored';
COMMENT ON COLUMN ohlc_second_copies.start IS 'As in ohlc_stored';
COMMENT ON COLUMN ohlc_second_copies.volume IS 'Volume of the non-primary fills in 1e-8 units';
COMMENT ON COLUMN ohlc_second_copies.quote_volume IS 'Quote volume of the non-primary fills in 1e-16 units';

CREATE OR REPLACE VIEW ohlc AS
SELECT m.exchange, m.market,
    CASE minutes WHEN 1 THEN '1m' WHEN 5 THEN '5m' WHEN 15 THEN '15m' WHEN 60 THEN '1h' WHEN 240 THEN '4h'
                 WHEN 1440 THEN '1d' END AS "interval",
    CAST(make_timestamp(start * 60000000::BIGINT) AS TIMESTAMPTZ) AS bucket,
    CAST(s.open AS DECIMAL(18, 0)) * 0.00000001 AS open,
    CAST(s.high AS DECIMAL(18, 0)) * 0.00000001 AS high,
    CAST(s.low AS DECIMAL(18, 0)) * 0.00000001 AS low,
    CAST(s.close AS DECIMAL(18, 0)) * 0.00000001 AS close,
    CAST(s.volume AS DECIMAL(38, 0)) * 0.00000001 AS volume,
    CAST(s.quote_volume AS DECIMAL(38, 0)) * 0.0000000000000001 AS quote_volume,
    -- VWAP in 1e-12 units, rounded half up: (2 q 10^4 + v) // 2 v, with q in 1e-16 and v in 1e-8.
    CAST(CASE WHEN s.volume > 0 THEN (s.quote_volume * 20000 + s.volume) // (2 * s.volume) END AS DECIMAL(38, 0))
        * 0.000000000001 AS vwap,
    s.trades::BIGINT AS trades,
    CAST(s.volume - coalesce(c.volume, 0) AS DECIMAL(38, 0)) * 0.00000001 AS volume_primary,
    CAST(s.quote_volume - coalesce(c.quote_volume, 0) AS DECIMAL(38, 0)) * 0.0000000000000001 AS quote_volume_primary
FROM ohlc_stored AS s JOIN markets AS m USING (market_key)
    LEFT JOIN ohlc_second_copies AS c USING (market_key, minutes, start);
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

CREATE OR REPLACE TEMP TABLE ohlc_days AS SELECT DISTINCT market_key, day FROM trades_new_days;

DELETE FROM ohlc_stored WHERE (market_key, start // 1440) IN (SELECT (market_key, day) FROM ohlc_days);
DELETE FROM ohlc_second_copies WHERE (market_key, start // 1440) IN (SELECT (market_key, day) FROM ohlc_days);

-- Facts about the days being built, each answered in milliseconds (column statistics; the first trade that says
-- no ends the search), that spare the 1-minute pass work it would do for nothing. When no trade's time differs
-- from its tid (Mt.Gox since June 2011), ordering by tid is ordering by (ts, tid), and a BIGINT key is cheaper
-- than the (ts, tid) HUGEINT. A build into an empty trades table builds every day there is, so no trade needs to
-- be checked against the days. And when every trade is primary, there are no second copies to sum.
SET VARIABLE ohlc_tid_is_time = (
    SELECT count(*) = 0 FROM (SELECT 1 FROM trades_stored WHERE ts_offset_us <> 0
      AND (tid + ts_offset_us) // 86400000000 IN (SELECT day FROM ohlc_days) LIMIT 1));
SET VARIABLE ohlc_every_day = getvariable('trades_rowid_before') < 0;
-- The span of those days in µs: trades_stored keeps the order trades arrive in, tid order page by page, so a
-- range of tids skips all but a few of its row groups.
SET VARIABLE ohlc_first_us = (SELECT min(day) * 86400000000 FROM ohlc_days);
SET VARIABLE ohlc_end_us = (SELECT (max(day) + 1) * 86400000000 FROM ohlc_days);

-- The arithmetic is on integers, from the storage: prices in 1e-8 units, quote volume in 1e-16.
-- Of some days only: a trade whose tid is its time lies in the days' range of tids; the few others (2011) are
-- found by their offset, which the row groups' statistics rule out everywhere else.
CREATE OR REPLACE TEMP MACRO ohlc_fills() AS TABLE
WITH wanted AS (
    SELECT * FROM trades_stored WHERE getvariable('ohlc_every_day')
    UNION ALL
    SELECT * FROM trades_stored WHERE NOT getvariable('ohlc_every_day') AND ts_offset_us = 0
        AND tid >= getvariable('ohlc_first_us') AND tid < getvariable('ohlc_end_us')
        AND (market_key, tid // 86400000000) IN (SELECT (market_key, day) FROM ohlc_days)
    UNION ALL
    SELECT * FROM trades_stored WHERE NOT getvariable('ohlc_every_day') AND ts_offset_us <> 0
        AND (market_key, (tid + ts_offset_us) // 86400000000) IN (SELECT (market_key, day) FROM ohlc_days)
)
SELECT market_key, tid + ts_offset_us AS ts_us, tid,
    price_units * [100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1][price_decimals + 1] AS p,
    amount_units * [100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1][amount_decimals + 1] AS a,
    "primary" IS NOT false AS counted_once
FROM wanted;

-- The last fact, read from the days' fills alone.
SET VARIABLE ohlc_all_primary = (SELECT count(*) = 0 FROM (SELECT 1 FROM ohlc_fills() WHERE NOT counted_once LIMIT 1));

SET VARIABLE ohlc_rowid_before = (SELECT coalesce(max(rowid), -1) FROM ohlc_stored);
-- Straight into the table: a temporary copy of 1.5 million bars a year would cost more than reading them back.
INSERT INTO ohlc_stored
SELECT market_key, 1::SMALLINT AS minutes, (ts_us // 60000000)::INTEGER AS start,
    arg_min(p, tid) AS open, max(p) AS high, min(p) AS low, arg_max(p, tid) AS close,
    sum(a) AS volume, sum(p::HUGEINT * a) AS quote_volume, count(*)::INTEGER AS trades
FROM ohlc_fills() WHERE getvariable('ohlc_tid_is_time')
GROUP BY ALL
UNION ALL
-- (ts, tid) as one HUGEINT, ts_us * 2^64 + tid: cheaper to compare than a struct.
SELECT market_key, 1::SMALLINT AS minutes, (ts_us // 60000000)::INTEGER AS start,
    arg_min(p, CAST(ts_us AS HUGEINT) * 18446744073709551616 + tid) AS open, max(p) AS high, min(p) AS low,
    arg_max(p, CAST(ts_us AS HUGEINT) * 18446744073709551616 + tid) AS close,
    sum(a) AS volume, sum(p::HUGEINT * a) AS quote_volume, count(*)::INTEGER AS trades
FROM ohlc_fills() WHERE NOT getvariable('ohlc_tid_is_time')
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE ohlc_second_copies_1m AS
SELECT market_key, 1::SMALLINT AS minutes, (ts_us // 60000000)::INTEGER AS start, sum(a) AS volume,
    sum(p::HUGEINT * a) AS quote_volume
FROM ohlc_fills() WHERE NOT getvariable('ohlc_all_primary') AND NOT counted_once
GROUP BY ALL;

-- Each width rolls up from the one before (minutes since the epoch divide into every width from
-- midnight UTC on), so each step reads a fraction of the rows of the 1-minute bars.
CREATE OR REPLACE TEMP MACRO ohlc_rollup(finer, width) AS TABLE
SELECT market_key, width::SMALLINT AS minutes, start // width * width AS start,
    arg_min(open, start) AS open, max(high) AS high, min(low) AS low, arg_max(close, start) AS close,
    sum(volume) AS volume, sum(quote_volume) AS quote_volume, sum(trades)::INTEGER AS trades
FROM query_table(finer)
GROUP BY market_key, start // width * width;

-- The 1-minute bars just made, for the roll-ups: the rows past the highest row id before the insert (new rows go
-- after every stored one; the deleted ones are no longer seen), which the scan finds without reading the others.
CREATE OR REPLACE TEMP VIEW ohlc_1m AS SELECT * FROM ohlc_stored WHERE rowid > getvariable('ohlc_rowid_before');
CREATE OR REPLACE TEMP TABLE ohlc_5m AS SELECT * FROM ohlc_rollup('ohlc_1m', 5);
CREATE OR REPLACE TEMP TABLE ohlc_15m AS SELECT * FROM ohlc_rollup('ohlc_5m', 15);
CREATE OR REPLACE TEMP TABLE ohlc_1h AS SELECT * FROM ohlc_rollup('ohlc_15m', 60);
CREATE OR REPLACE TEMP TABLE ohlc_4h AS SELECT * FROM ohlc_rollup('ohlc_1h', 240);
CREATE OR REPLACE TEMP TABLE ohlc_1d AS SELECT * FROM ohlc_rollup('ohlc_4h', 1440);

INSERT INTO ohlc_stored
SELECT * FROM ohlc_5m UNION ALL SELECT * FROM ohlc_15m
UNION ALL SELECT * FROM ohlc_1h UNION ALL SELECT * FROM ohlc_4h UNION ALL SELECT * FROM ohlc_1d;

-- The second copies roll up the same way, each width from the one before: a third of the rows of summing every
-- width from the 1-minute copies.
CREATE OR REPLACE TEMP MACRO ohlc_second_rollup(finer, width) AS TABLE
SELECT market_key, width::SMALLINT AS minutes, start // width * width AS start, sum(volume) AS volume,
    sum(quote_volume) AS quote_volume
FROM query_table(finer)
GROUP BY market_key, start // width * width;
CREATE OR REPLACE TEMP TABLE ohlc_second_copies_5m AS SELECT * FROM ohlc_second_rollup('ohlc_second_copies_1m', 5);
CREATE OR REPLACE TEMP TABLE ohlc_second_copies_15m AS SELECT * FROM ohlc_second_rollup('ohlc_second_copies_5m', 15);
CREATE OR REPLACE TEMP TABLE ohlc_second_copies_1h AS SELECT * FROM ohlc_second_rollup('ohlc_second_copies_15m', 60);
CREATE OR REPLACE TEMP TABLE ohlc_second_copies_4h AS SELECT * FROM ohlc_second_rollup('ohlc_second_copies_1h', 240);

INSERT INTO ohlc_second_copies
SELECT * FROM ohlc_second_copies_1m UNION ALL SELECT * FROM ohlc_second_copies_5m
UNION ALL SELECT * FROM ohlc_second_copies_15m UNION ALL SELECT * FROM ohlc_second_copies_1h
UNION ALL SELECT * FROM ohlc_second_copies_4h
UNION ALL SELECT * FROM ohlc_second_rollup('ohlc_second_copies_4h', 1440);
