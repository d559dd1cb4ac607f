-- depth_levels: one row per price level of each order-book snapshot, exact.
-- depends_on: depth_snapshots
--
-- Incremental: the levels of this build's new, accepted snapshots are appended. Real books hold
-- absurd far levels (a bid at 0.00001 for 25 million BTC, an ask at 179 billion): kept as they came.
CREATE TABLE IF NOT EXISTS depth_levels (
    snapshot_id VARCHAR NOT NULL,
    exchange VARCHAR NOT NULL,
    market VARCHAR NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    side VARCHAR NOT NULL,
    price DECIMAL(38, 8) NOT NULL,
    amount DECIMAL(18, 8) NOT NULL,
    stamp TIMESTAMPTZ
);
COMMENT ON TABLE depth_levels IS 'Order-book levels, one row per (snapshot, side, level)';
COMMENT ON COLUMN depth_levels.snapshot_id IS 'The snapshot (depth_snapshots.snapshot_id)';
COMMENT ON COLUMN depth_levels.received_at IS 'When the snapshot arrived, UTC';
COMMENT ON COLUMN depth_levels.side IS 'ask or bid';
COMMENT ON COLUMN depth_levels.price IS 'Price of the level, exact';
COMMENT ON COLUMN depth_levels.amount IS 'Amount of BTC at that price, exact';
COMMENT ON COLUMN depth_levels.stamp IS 'When the level last changed, UTC (v1/v2 stamp)';

INSERT INTO depth_levels BY NAME
SELECT * EXCLUDE (problem) FROM stg_depth_levels
WHERE snapshot_id NOT IN (SELECT record_id FROM stg_rejects)
ORDER BY exchange, market, received_at, snapshot_id, side, price;
