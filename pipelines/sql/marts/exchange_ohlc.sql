-- exchange_ohlc: the bars exchanges report themselves (Kraken's OHLC), one row per (exchange, market, minutes, bucket).
--
-- Beside ohlc, which is ours, from trades; the check ohlc_exchange_bars compares the two. Only committed bars
-- are kept: the last bar of each answer is the one still open, whose numbers change until its minute ends.
-- Incremental: this build's committed bars that no earlier build stored are appended. Every answer repeats up
-- to 720 bars; the first copy received wins (a committed bar does not change).
CREATE TABLE IF NOT EXISTS exchange_ohlc (
    exchange VARCHAR NOT NULL,
    market VARCHAR NOT NULL,
    minutes SMALLINT NOT NULL,
    bucket TIMESTAMPTZ NOT NULL,
    open DECIMAL(18, 8) NOT NULL,
    high DECIMAL(18, 8) NOT NULL,
    low DECIMAL(18, 8) NOT NULL,
    close DECIMAL(18, 8) NOT NULL,
    vwap DECIMAL(18, 8) NOT NULL,
    volume DECIMAL(18, 8) NOT NULL,
    trades BIGINT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    record_id VARCHAR NOT NULL
);
COMMENT ON TABLE exchange_ohlc IS 'Bars as the exchange reports them (Kraken OHLC), committed ones only';
COMMENT ON COLUMN exchange_ohlc.exchange IS 'Exchange name, e.g. kraken';
COMMENT ON COLUMN exchange_ohlc.market IS 'Market, item then currency, e.g. BTCUSD';
COMMENT ON COLUMN exchange_ohlc.minutes IS 'The bar''s width in minutes (the request''s interval: 1, 5, 15, 30, 60, 240, 1440, ...)';
COMMENT ON COLUMN exchange_ohlc.bucket IS 'Start of the bar, UTC';
COMMENT ON COLUMN exchange_ohlc.open IS 'Open, as the exchange reports it, exact';
COMMENT ON COLUMN exchange_ohlc.high IS 'High';
COMMENT ON COLUMN exchange_ohlc.low IS 'Low';
COMMENT ON COLUMN exchange_ohlc.close IS 'Close';
COMMENT ON COLUMN exchange_ohlc.vwap IS 'Volume-weighted average price, as the exchange rounds it';
COMMENT ON COLUMN exchange_ohlc.volume IS 'Volume in the item';
COMMENT ON COLUMN exchange_ohlc.trades IS 'Number of trades (Kraken''s count)';
COMMENT ON COLUMN exchange_ohlc.received_at IS 'When the answer the bar was first read from arrived, UTC';
COMMENT ON COLUMN exchange_ohlc.record_id IS 'The raw record the bar was first read from';

INSERT INTO exchange_ohlc
WITH fresh AS (
    SELECT exchange, market, minutes, bucket, open, high, low, close, vwap, volume, trades, received_at, record_id
    FROM stg_exchange_ohlc
    WHERE committed AND record_id NOT IN (SELECT record_id FROM stg_rejects)
    QUALIFY row_number() OVER (PARTITION BY exchange, market, minutes, bucket ORDER BY received_at, record_id, position) = 1
)
SELECT * FROM fresh AS f
WHERE NOT EXISTS (SELECT 1 FROM exchange_ohlc AS o WHERE o.exchange = f.exchange AND o.market = f.market
                  AND o.minutes = f.minutes AND o.bucket = f.bucket)
ORDER BY exchange, market, minutes, bucket;
