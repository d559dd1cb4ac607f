-- stg_kraken_depth: each new Kraken Depth answer parsed once, its two sides still lists.
-- depends_on: stg_responses
--
-- {"error": [], "result": {PAIR: {"asks": [[price, volume, time], ...], "bids": [...]}}}, keyed by Kraken's pair
-- id (one key). Prices and volumes are strings; a level's time is integer seconds (the spec), read from its text.
WITH answers AS (
    SELECT record_id, exchange, market, endpoint, api_version, received_at, try(decode(body)) AS text
    FROM raw_new
    WHERE exchange = 'kraken' AND endpoint = 'depth' AND error_class IS NULL
),
parsed AS (
    SELECT *, try(json_transform(text, '{"error":"VARCHAR[]","errors":[{"errorClass":"VARCHAR","type":"VARCHAR"}],
        "result":"MAP(VARCHAR, STRUCT(asks VARCHAR[][], bids VARCHAR[][]))"}')) AS s
    FROM answers
),
keyed AS (
    SELECT record_id, count(*) AS pairs, any_value(e.value) AS book
    FROM (SELECT record_id, unnest(map_entries(s.result)) AS e FROM parsed)
    GROUP BY record_id
)
SELECT p.record_id, p.exchange, p.market, p.endpoint, p.api_version, p.received_at, k.book.asks AS asks,
    k.book.bids AS bids,
    CASE WHEN p.text IS NULL THEN 'depth: the body is not UTF-8 text'
         WHEN p.s IS NULL THEN 'depth: the body is not a JSON object'
         WHEN p.error IS NOT NULL
             THEN 'depth: Kraken answered an error: ' || p.error
         WHEN p.s.result IS NULL OR k.pairs IS NULL THEN 'depth: the answer has no result object naming a pair'
         WHEN k.pairs > 1 THEN 'depth: the result names ' || k.pairs || ' pairs, not one'
         WHEN k.book.asks IS NULL AND k.book.bids IS NULL THEN 'depth: the answer has neither asks nor bids'
    END AS problem
FROM (SELECT *, kraken_error(s.error, s.errors) AS error FROM parsed) AS p LEFT JOIN keyed AS k USING (record_id)
