-- stg_mtgox_orders: one row per open order of each new orders answer (a snapshot of the account's book).
-- depends_on: stg_responses
--
-- v1/v2 answer a list of orders with money objects and type 'bid'/'ask'; v0 answers
-- {usds, btcs, orders: [...]} with JSON floats and type 1 (ask) or 2 (bid).
WITH answers AS (
    SELECT r.record_id, r.exchange, r.api_version, r.received_at, r.collector_run,
        mtgox_payload(try(decode(r.body)), r.api_version) AS payload
    FROM raw_new AS r
    WHERE r.error_class IS NULL AND r.exchange = 'mtgox' AND r.endpoint = 'orders'
),
parsed AS (
    SELECT *,
        CASE WHEN starts_with(ltrim(left(payload, 64)), '[') THEN try(json_transform(payload, '[{"oid":"VARCHAR","currency":"VARCHAR",
            "item":"VARCHAR","type":"VARCHAR","status":"VARCHAR","date":"VARCHAR",
            "amount":{"value":"VARCHAR","value_int":"VARCHAR","currency":"VARCHAR"},
            "price":{"value":"VARCHAR","value_int":"VARCHAR","currency":"VARCHAR"}}]')) END AS v1,
        CASE WHEN NOT starts_with(ltrim(left(payload, 64)), '[') THEN try(json_transform(payload, '{"orders":[{"oid":"VARCHAR",
            "currency":"VARCHAR","item":"VARCHAR","type":"VARCHAR","status":"VARCHAR","date":"VARCHAR",
            "amount":"VARCHAR","price":"VARCHAR"}]}')).orders END AS v0
    FROM answers
),
orders AS (
    SELECT record_id, exchange, received_at, collector_run, o.oid, coalesce(o.currency, 'USD') AS currency,
        coalesce(o.item, 'BTC') AS item, o.type, o.status, o.date,
        mtgox_money(o.amount, 'BTC') AS amount, mtgox_money(o.price, coalesce(o.currency, 'USD')) AS price
    FROM (SELECT *, unnest(v1) AS o FROM parsed WHERE v1 IS NOT NULL)
    UNION ALL
    SELECT record_id, exchange, received_at, collector_run, o.oid, coalesce(o.currency, 'USD'), coalesce(o.item, 'BTC'),
        CASE o.type WHEN '1' THEN 'ask' WHEN '2' THEN 'bid' ELSE o.type END, o.status, o.date,
        TRY_CAST(o.amount AS DECIMAL(38, 8)), TRY_CAST(o.price AS DECIMAL(38, 8))
    FROM (SELECT *, unnest(v0) AS o FROM parsed WHERE v0 IS NOT NULL)
)
SELECT record_id, exchange, received_at, collector_run, oid AS order_id, item || currency AS market,
    type AS side, status, utc_s(TRY_CAST(date AS BIGINT)) AS placed_at,
    TRY_CAST(amount AS DECIMAL(18, 8)) AS amount, TRY_CAST(price AS DECIMAL(18, 8)) AS price,
    CASE WHEN oid IS NULL THEN 'orders: an order without an oid'
         WHEN TRY_CAST(amount AS DECIMAL(18, 8)) IS NULL THEN 'orders: order ' || oid || ' has no valid amount' END
        AS problem
FROM orders
UNION ALL BY NAME
SELECT record_id, exchange, received_at, collector_run,
    CASE WHEN payload IS NULL THEN 'orders: the body is not UTF-8 text'
         ELSE 'orders: the answer is not a list of orders' END AS problem
FROM parsed WHERE v1 IS NULL AND v0 IS NULL
