-- stg_kraken_asset_pairs: one row per pair of each new Kraken AssetPairs answer: names and decimals.
-- depends_on: stg_responses
--
-- {"error": [], "result": {PAIR_ID: {altname, wsname, base, quote, pair_decimals, cost_decimals, lot_decimals, ...}}}.
-- No table keeps it: prices and volumes carry their decimals in their own text, which the models read instead.
-- Staging reads it so that a good answer loads and a bad one goes to quarantine with its reason.
WITH answers AS (
    SELECT record_id, exchange, received_at, try(decode(body)) AS text
    FROM raw_new
    WHERE exchange = 'kraken' AND endpoint = 'asset_pairs' AND error_class IS NULL
),
parsed AS (
    SELECT *, try(json_transform(text, '{"error":"VARCHAR[]","errors":[{"errorClass":"VARCHAR","type":"VARCHAR"}],
        "result":"MAP(VARCHAR, STRUCT(altname VARCHAR, base VARCHAR, quote VARCHAR, pair_decimals VARCHAR, lot_decimals VARCHAR))"}')) AS s
    FROM answers
),
pages AS (
    SELECT record_id, exchange, received_at, s.result AS pairs,
        CASE WHEN text IS NULL THEN 'asset_pairs: the body is not UTF-8 text'
             WHEN s IS NULL THEN 'asset_pairs: the body is not a JSON object'
             WHEN error IS NOT NULL
                 THEN 'asset_pairs: Kraken answered an error: ' || error
             WHEN s.result IS NULL THEN 'asset_pairs: the answer has no result object of pairs'
        END AS problem
    FROM (SELECT *, kraken_error(s.error, s.errors) AS error FROM parsed)
)
SELECT record_id, exchange, received_at, p.key AS pair_id, p.value.altname AS altname,
    kraken_currency(p.value.base) AS base, kraken_currency(p.value.quote) AS quote,
    TRY_CAST(p.value.pair_decimals AS INTEGER) AS pair_decimals, TRY_CAST(p.value.lot_decimals AS INTEGER) AS lot_decimals,
    CASE WHEN p.value.base IS NULL OR p.value.quote IS NULL THEN 'asset_pairs: pair ' || p.key || ' has no base or quote'
    END AS problem
FROM (SELECT record_id, exchange, received_at, unnest(map_entries(pairs)) AS p FROM pages WHERE problem IS NULL)
UNION ALL BY NAME
SELECT record_id, exchange, received_at, problem FROM pages WHERE problem IS NOT NULL
