-- trades: one row per (exchange, market, tid): every public trade recorded, exact.
--
-- Incremental: this build's staged trades that no earlier build stored are appended (pages overlap
-- and repeat; the first copy received wins), kept in `trades_new` for the models after this one.
-- Rows go in ordered by time, so DuckDB's zone maps skip most of the table for a time range.
CREATE TABLE IF NOT EXISTS trades (
    exchange VARCHAR NOT NULL,
    market VARCHAR NOT NULL,
    tid BIGINT NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    price DECIMAL(18, 8) NOT NULL,
    amount DECIMAL(18, 8) NOT NULL,
    side VARCHAR,
    "primary" BOOLEAN,
    properties VARCHAR,
    price_currency VARCHAR NOT NULL,
    item VARCHAR NOT NULL
);
COMMENT ON TABLE trades IS 'Public trades, one row per (exchange, market, tid), exact';
COMMENT ON COLUMN trades.exchange IS 'Exchange name, e.g. mtgox';
COMMENT ON COLUMN trades.market IS 'Market, item then currency, e.g. BTCUSD';
COMMENT ON COLUMN trades.tid IS 'Trade id: small sequential integers before 2011-06-26, the time in microseconds after';
COMMENT ON COLUMN trades.ts IS 'Time of the trade, UTC, microseconds (seconds only before June 2011)';
COMMENT ON COLUMN trades.price IS 'Price in price_currency per unit of item, exact (from price_int and the currency scale)';
COMMENT ON COLUMN trades.amount IS 'Amount of item traded, exact (from amount_int, 1e8 per BTC)';
COMMENT ON COLUMN trades.side IS 'Mt.Gox trade_type: bid (the taker bought) or ask (the taker sold); NULL when not sent';
COMMENT ON COLUMN trades."primary" IS 'false for the copy of a fill between two currencies in the second feed; NULL when not sent (v0)';
COMMENT ON COLUMN trades.properties IS 'limit, market, and mixed_currency for fills between currencies';
COMMENT ON COLUMN trades.price_currency IS 'Currency of price';
COMMENT ON COLUMN trades.item IS 'What was traded (BTC)';

CREATE OR REPLACE TEMP TABLE trades_new AS
WITH fresh AS (
    SELECT * EXCLUDE (record_id, received_at, problem)
    FROM stg_trades
    WHERE record_id NOT IN (SELECT record_id FROM stg_rejects)
    QUALIFY row_number() OVER (PARTITION BY exchange, market, tid ORDER BY received_at, record_id) = 1
),
span AS (SELECT min(tid) AS low, max(tid) AS high FROM fresh)
SELECT f.* FROM fresh AS f
WHERE NOT EXISTS (
    SELECT 1 FROM trades AS t
    WHERE t.tid BETWEEN (SELECT low FROM span) AND (SELECT high FROM span)
      AND t.exchange = f.exchange AND t.market = f.market AND t.tid = f.tid);

INSERT INTO trades SELECT * FROM trades_new ORDER BY exchange, market, ts, tid;
