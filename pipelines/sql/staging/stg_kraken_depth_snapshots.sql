-- stg_kraken_depth_snapshots: one row per new Kraken Depth answer: when, and how many levels.
-- depends_on: stg_kraken_depth
--
-- Kraken's book has no time stamp of its own (each level has one) and no price filter.
SELECT record_id AS snapshot_id, exchange, market, endpoint, api_version, received_at, NULL::TIMESTAMPTZ AS now,
    substr(market, 4) AS currency, coalesce(len(asks), 0) AS asks, coalesce(len(bids), 0) AS bids,
    NULL::DECIMAL(38, 8) AS filter_min_price, NULL::DECIMAL(38, 8) AS filter_max_price, problem
FROM stg_kraken_depth
