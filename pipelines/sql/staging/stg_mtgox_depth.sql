-- stg_mtgox_depth: each new Mt.Gox depth and full-depth answer parsed once, its two sides still lists.
-- depends_on: stg_responses
--
-- v1/v2 levels are objects {price, amount, price_int, amount_int, stamp}; v0 and the 2011 answers
-- send [price, amount] pairs of JSON floats. Which one a body holds is read from its first level.
WITH answers AS (
    SELECT r.record_id, r.exchange, r.market, r.endpoint, r.api_version, r.received_at,
        mtgox_payload(try(decode(r.body)), r.api_version) AS payload
    FROM raw_new AS r
    WHERE r.error_class IS NULL AND r.exchange = 'mtgox' AND r.endpoint IN ('depth', 'full_depth')
),
shaped AS (
    SELECT *, regexp_matches(payload, '"(asks|bids)"\s*:\s*\[\s*\[') AS pairs FROM answers
),
parsed AS (
    SELECT record_id, exchange, market, endpoint, api_version, received_at, payload,
    CASE WHEN pairs THEN try(json_transform(payload, '{"asks":[["VARCHAR"]],"bids":[["VARCHAR"]]}')) END AS v0,
    CASE WHEN NOT pairs THEN try(json_transform(payload, '{
        "asks":[{"price":"VARCHAR","amount":"VARCHAR","price_int":"VARCHAR","amount_int":"VARCHAR","stamp":"VARCHAR"}],
        "bids":[{"price":"VARCHAR","amount":"VARCHAR","price_int":"VARCHAR","amount_int":"VARCHAR","stamp":"VARCHAR"}],
        "filter_min_price":{"value":"VARCHAR","value_int":"VARCHAR","currency":"VARCHAR"},
        "filter_max_price":{"value":"VARCHAR","value_int":"VARCHAR","currency":"VARCHAR"},
        "now":"VARCHAR"}')) END AS v1
    FROM shaped
)
SELECT * EXCLUDE (payload),
    CASE WHEN payload IS NULL THEN 'depth: the body is not UTF-8 text'
         WHEN v0.asks IS NULL AND v1.asks IS NULL AND v0.bids IS NULL AND v1.bids IS NULL
             THEN 'depth: the answer has neither asks nor bids'
    END AS problem
FROM parsed
