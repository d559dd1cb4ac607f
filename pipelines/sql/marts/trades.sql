-- trades: one row per (exchange, market, tid): every public trade recorded, exact.
--
-- Stored as `trades_stored`, integers in each currency's own scale and the time as an offset from
-- the tid (0 since June 2011, when a tid became the trade's time in µs), because DuckDB packs such
-- integers into a few bytes; `trades` is the view everyone queries, with exact DECIMALs and times.
--
-- Incremental: this build's staged trades that no earlier build stored are appended (pages overlap
-- and repeat; the first copy received wins); `trades_new_days` tells the bars which days changed.
CREATE TABLE IF NOT EXISTS trades_stored (
    exchange VARCHAR NOT NULL,
    market VARCHAR NOT NULL,
    tid BIGINT NOT NULL,
    ts_offset_us BIGINT NOT NULL,
    price_units BIGINT NOT NULL,
    price_decimals TINYINT NOT NULL,
    amount_units BIGINT NOT NULL,
    amount_decimals TINYINT NOT NULL,
    side VARCHAR,
    "primary" BOOLEAN,
    properties VARCHAR,
    price_currency VARCHAR,
    item VARCHAR,
    market_key SMALLINT NOT NULL
);
-- A small integer per (exchange, market): the bars group by it, which is cheaper than two strings, and a
-- constant per row group costs nothing to store.
CREATE TABLE IF NOT EXISTS markets (
    exchange VARCHAR NOT NULL,
    market VARCHAR NOT NULL,
    market_key SMALLINT NOT NULL PRIMARY KEY,
    UNIQUE (exchange, market)
);
COMMENT ON TABLE markets IS 'Every (exchange, market) with trades, and the key trades_stored and ohlc_stored name it by';
COMMENT ON COLUMN markets.market_key IS 'Its number, given in the order markets first appear (1, 2, ...)';
COMMENT ON TABLE trades_stored IS 'The storage of trades (query the view trades): exact integers that compress well';
COMMENT ON COLUMN trades_stored.tid IS 'Trade id';
COMMENT ON COLUMN trades_stored.ts_offset_us IS 'The trade''s time in µs since the epoch minus tid (0 since June 2011)';
COMMENT ON COLUMN trades_stored.price_units IS 'Price as an integer of 10^-price_decimals units of price_currency';
COMMENT ON COLUMN trades_stored.price_decimals IS 'Decimals of price_units (Mt.Gox: 5, 3 for JPY and SEK; Kraken: the price string''s)';
COMMENT ON COLUMN trades_stored.amount_units IS 'Amount as an integer of 10^-amount_decimals units of item';
COMMENT ON COLUMN trades_stored.amount_decimals IS 'Decimals of amount_units (8 for BTC)';
COMMENT ON COLUMN trades_stored.side IS 'As in trades';
COMMENT ON COLUMN trades_stored."primary" IS 'As in trades';
COMMENT ON COLUMN trades_stored.properties IS 'As in trades';
COMMENT ON COLUMN trades_stored.price_currency IS 'As in trades; NULL when it is the market''s currency';
COMMENT ON COLUMN trades_stored.item IS 'As in trades; NULL when it is the market''s item';
COMMENT ON COLUMN trades_stored.market_key IS 'The (exchange, market) as numbered in markets';

CREATE OR REPLACE VIEW trades AS
SELECT exchange, market, tid,
    CAST(make_timestamp(tid + ts_offset_us) AS TIMESTAMPTZ) AS ts,
    CAST(CAST(price_units AS DECIMAL(18, 0)) * decimal_unit(price_decimals) AS DECIMAL(38, 8)) AS price,
    CAST(CAST(amount_units AS DECIMAL(18, 0)) * decimal_unit(amount_decimals) AS DECIMAL(18, 8)) AS amount,
    side, "primary", properties,
    coalesce(price_currency, substr(market, 4)) AS price_currency, coalesce(item, left(market, 3)) AS item
FROM trades_stored;
COMMENT ON VIEW trades IS 'Public trades, one row per (exchange, market, tid), exact';
COMMENT ON COLUMN trades.tid IS 'Trade id. Mt.Gox: small sequential integers before 2011-06-26, the time in microseconds after; Kraken: trade_id';
COMMENT ON COLUMN trades.ts IS 'Time of the trade, UTC, microseconds (seconds only before June 2011)';
COMMENT ON COLUMN trades.price IS 'Price in price_currency per unit of item, exact (from price_int and the currency scale)';
COMMENT ON COLUMN trades.amount IS 'Amount of item traded, exact (from amount_int, 1e8 per BTC)';
COMMENT ON COLUMN trades.side IS 'bid (the taker bought) or ask (the taker sold): Mt.Gox trade_type, Kraken b or s; NULL when not sent';
COMMENT ON COLUMN trades."primary" IS 'false for the copy of a fill between two currencies in the second feed; NULL when not sent (v0)';
COMMENT ON COLUMN trades.properties IS 'limit, market, and mixed_currency for fills between currencies';
COMMENT ON COLUMN trades.price_currency IS 'Currency of price';
COMMENT ON COLUMN trades.item IS 'What was traded (BTC)';

-- Rows are appended, never deleted, so this build's new rows are those past the highest rowid now.
SET VARIABLE trades_rowid_before = (SELECT coalesce(max(rowid), -1) FROM trades_stored);

-- Most builds hold each tid once; the window that keeps the first copy runs only when some repeat.
SET VARIABLE trades_repeat = (SELECT count(*) <> count(DISTINCT (exchange, market, tid)) FROM stg_trades
                              WHERE problem IS NULL);

INSERT INTO markets
SELECT exchange, market, (SELECT coalesce(max(market_key), 0) FROM markets) + row_number() OVER (ORDER BY exchange, market)
FROM (SELECT DISTINCT exchange, market FROM stg_trades WHERE problem IS NULL
      EXCEPT SELECT exchange, market FROM markets);

-- Trades arrive in tid order page by page; kept in that order, their integers pack tighter.
SET preserve_insertion_order = true;

INSERT INTO trades_stored
WITH fresh AS (
    SELECT * EXCLUDE (record_id, problem)
    FROM stg_trades
    WHERE record_id NOT IN (SELECT record_id FROM stg_rejects)
),
firsts AS (
    SELECT * EXCLUDE (received_at) FROM fresh WHERE NOT getvariable('trades_repeat')
    UNION ALL
    SELECT * EXCLUDE (received_at) FROM fresh WHERE getvariable('trades_repeat')
    QUALIFY row_number() OVER (PARTITION BY exchange, market, tid ORDER BY received_at) = 1
),
span AS (SELECT min(tid) AS low, max(tid) AS high FROM firsts)
SELECT exchange, market, tid, ts_offset_us, price_units, price_decimals, amount_units, amount_decimals, side,
    "primary", properties,
    -- NULL when it is what the market's name says: a constant NULL costs nothing to store.
    nullif(price_currency, substr(market, 4)) AS price_currency, nullif(item, left(market, 3)) AS item, m.market_key
FROM firsts AS f JOIN markets AS m USING (exchange, market)
WHERE NOT EXISTS (
    SELECT 1 FROM trades_stored AS t
    WHERE t.tid BETWEEN (SELECT low FROM span) AND (SELECT high FROM span)
      AND t.exchange = f.exchange AND t.market = f.market AND t.tid = f.tid);

SET preserve_insertion_order = false;

-- The UTC days (since the epoch) this build's new trades fall on: the bars to recompute.
CREATE OR REPLACE TEMP TABLE trades_new_days AS
SELECT DISTINCT exchange, market, market_key, (tid + ts_offset_us) // 86400000000 AS day
FROM trades_stored WHERE rowid > getvariable('trades_rowid_before');
