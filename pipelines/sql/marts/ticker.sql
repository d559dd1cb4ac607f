-- ticker: one row per ticker snapshot recorded, every field exact.
--
-- Incremental: this build's new, accepted ticker answers are appended (each raw record is staged once).
CREATE TABLE IF NOT EXISTS ticker (
    exchange VARCHAR NOT NULL,
    market VARCHAR NOT NULL,
    record_id VARCHAR NOT NULL,
    api_version TINYINT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    now TIMESTAMPTZ,
    currency VARCHAR NOT NULL,
    high DECIMAL(18, 8), low DECIMAL(18, 8), avg DECIMAL(18, 8), vwap DECIMAL(18, 8), vol DECIMAL(18, 8),
    last DECIMAL(18, 8), last_local DECIMAL(18, 8), last_orig DECIMAL(18, 8), last_orig_currency VARCHAR,
    last_all DECIMAL(18, 8), buy DECIMAL(18, 8), sell DECIMAL(18, 8)
);
COMMENT ON TABLE ticker IS 'Ticker snapshots, one row per answer recorded';
COMMENT ON COLUMN ticker.record_id IS 'The raw record the snapshot came from';
COMMENT ON COLUMN ticker.received_at IS 'When the answer arrived, UTC';
COMMENT ON COLUMN ticker.now IS 'The exchange''s own time stamp of the answer (v1/v2 "now"), UTC';
COMMENT ON COLUMN ticker.currency IS 'Currency of the prices (the market''s)';
COMMENT ON COLUMN ticker.high IS '24-hour high';
COMMENT ON COLUMN ticker.low IS '24-hour low';
COMMENT ON COLUMN ticker.avg IS '24-hour average price';
COMMENT ON COLUMN ticker.vwap IS '24-hour volume-weighted average price';
COMMENT ON COLUMN ticker.vol IS '24-hour volume in BTC';
COMMENT ON COLUMN ticker.last IS 'Last trade price';
COMMENT ON COLUMN ticker.last_local IS 'Last trade in this currency';
COMMENT ON COLUMN ticker.last_orig IS 'Last trade in the currency it was made in (last_orig_currency)';
COMMENT ON COLUMN ticker.last_orig_currency IS 'Currency of last_orig';
COMMENT ON COLUMN ticker.last_all IS 'Last trade in any currency, converted';
COMMENT ON COLUMN ticker.buy IS 'Best bid';
COMMENT ON COLUMN ticker.sell IS 'Best ask';

INSERT INTO ticker BY NAME
SELECT * EXCLUDE (problem) FROM stg_ticker
WHERE record_id NOT IN (SELECT record_id FROM stg_rejects)
ORDER BY exchange, market, received_at;
