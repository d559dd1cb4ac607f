-- depth_snapshots: one row per order-book answer recorded (depth or full depth).
--
-- Incremental: this build's new, accepted answers are appended.
CREATE TABLE IF NOT EXISTS depth_snapshots (
    snapshot_id VARCHAR NOT NULL,
    exchange VARCHAR NOT NULL,
    market VARCHAR NOT NULL,
    endpoint VARCHAR NOT NULL,
    api_version TINYINT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    now TIMESTAMPTZ,
    currency VARCHAR NOT NULL,
    asks INTEGER NOT NULL,
    bids INTEGER NOT NULL,
    filter_min_price DECIMAL(38, 8),
    filter_max_price DECIMAL(38, 8)
);
COMMENT ON TABLE depth_snapshots IS 'Order-book snapshots, one row per depth or full-depth answer';
COMMENT ON COLUMN depth_snapshots.snapshot_id IS 'The raw record the snapshot came from; depth_levels and book_top refer to it';
COMMENT ON COLUMN depth_snapshots.endpoint IS 'depth (about 10 % around the last price) or full_depth';
COMMENT ON COLUMN depth_snapshots.received_at IS 'When the answer arrived, UTC';
COMMENT ON COLUMN depth_snapshots.now IS 'The exchange''s own time stamp, when sent';
COMMENT ON COLUMN depth_snapshots.currency IS 'Currency of the prices';
COMMENT ON COLUMN depth_snapshots.asks IS 'Number of ask levels';
COMMENT ON COLUMN depth_snapshots.bids IS 'Number of bid levels';
COMMENT ON COLUMN depth_snapshots.filter_min_price IS 'Lowest price a depth answer covers (v1/v2 filter_min_price)';
COMMENT ON COLUMN depth_snapshots.filter_max_price IS 'Highest price a depth answer covers';

INSERT INTO depth_snapshots BY NAME
SELECT * EXCLUDE (problem) FROM stg_depth_snapshots
WHERE snapshot_id NOT IN (SELECT record_id FROM stg_rejects)
ORDER BY exchange, market, received_at;
