-- stg_mtgox_depth_levels: one row per price level of each new depth answer, exact.
-- depends_on: stg_mtgox_depth
WITH levels AS (
    SELECT record_id, exchange, market, received_at, 'ask' AS side, unnest(v1.asks, recursive := true) FROM stg_mtgox_depth WHERE v1 IS NOT NULL
    UNION ALL
    SELECT record_id, exchange, market, received_at, 'bid' AS side, unnest(v1.bids, recursive := true) FROM stg_mtgox_depth WHERE v1 IS NOT NULL
    UNION ALL BY NAME
    SELECT record_id, exchange, market, received_at, 'ask' AS side, l[1] AS price, l[2] AS amount
    FROM (SELECT *, unnest(v0.asks) AS l FROM stg_mtgox_depth WHERE v0 IS NOT NULL)
    UNION ALL BY NAME
    SELECT record_id, exchange, market, received_at, 'bid' AS side, l[1] AS price, l[2] AS amount
    FROM (SELECT *, unnest(v0.bids) AS l FROM stg_mtgox_depth WHERE v0 IS NOT NULL)
),
typed AS (
    SELECT record_id AS snapshot_id, exchange, market, received_at, side,
        TRY_CAST(coalesce(mtgox_scaled(price_int, substr(market, 4)), TRY_CAST(price AS DECIMAL(38, 8))) AS DECIMAL(38, 8)) AS price,
        TRY_CAST(coalesce(mtgox_scaled(amount_int, 'BTC'), TRY_CAST(amount AS DECIMAL(38, 8))) AS DECIMAL(18, 8)) AS amount,
        utc_us(TRY_CAST(stamp AS BIGINT)) AS stamp
    FROM levels
)
SELECT *,
    CASE WHEN price IS NULL OR price <= 0 THEN 'depth: a ' || side || ' level without a valid price'
         WHEN amount IS NULL OR amount < 0 THEN 'depth: the ' || side || ' level at ' || price || ' has no valid amount'
    END AS problem
FROM typed
