-- stg_mtgox_depth_snapshots: one row per new depth answer: when, how many levels, the price filter.
-- depends_on: stg_mtgox_depth
SELECT record_id AS snapshot_id, exchange, market, endpoint, api_version, received_at,
    utc_us(TRY_CAST(v1.now AS BIGINT)) AS now,
    substr(market, 4) AS currency,
    coalesce(len(v1.asks), len(v0.asks), 0) AS asks,
    coalesce(len(v1.bids), len(v0.bids), 0) AS bids,
    TRY_CAST(mtgox_money(v1.filter_min_price, substr(market, 4)) AS DECIMAL(38, 8)) AS filter_min_price,
    TRY_CAST(mtgox_money(v1.filter_max_price, substr(market, 4)) AS DECIMAL(38, 8)) AS filter_max_price,
    problem
FROM stg_mtgox_depth
