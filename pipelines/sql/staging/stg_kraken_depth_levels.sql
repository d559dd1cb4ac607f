-- stg_kraken_depth_levels: one row per price level of each new Kraken Depth answer, exact.
-- depends_on: stg_kraken_depth
WITH levels AS (
    SELECT record_id, exchange, market, received_at, 'ask' AS side, unnest(asks) AS l FROM stg_kraken_depth
    WHERE problem IS NULL
    UNION ALL
    SELECT record_id, exchange, market, received_at, 'bid' AS side, unnest(bids) AS l FROM stg_kraken_depth
    WHERE problem IS NULL
),
typed AS (
    SELECT record_id AS snapshot_id, exchange, market, received_at, side, l[1] AS price_text, l[2] AS volume_text,
        l[3] AS time_text,
        TRY_CAST(kraken_amount(l[1]) AS DECIMAL(38, 8)) AS price,
        TRY_CAST(kraken_amount(l[2]) AS DECIMAL(18, 8)) AS amount,
        utc_us(kraken_us(TRY_CAST(l[3] AS DECIMAL(38, 12)))) AS stamp
    FROM levels
)
SELECT snapshot_id, exchange, market, received_at, side, price, amount, stamp,
    CASE WHEN price IS NULL OR price <= 0
             THEN 'depth: a ' || side || ' level without a valid price: ' || coalesce('"' || price_text || '"', 'none')
         WHEN amount IS NULL OR amount < 0
             THEN 'depth: the ' || side || ' level at ' || price || ' has no valid volume: '
                  || coalesce('"' || volume_text || '"', 'none')
         WHEN time_text IS NOT NULL AND stamp IS NULL
             THEN 'depth: the ' || side || ' level at ' || price || ' has no valid time: ' || time_text
    END AS problem
FROM typed
