-- stg_kraken_balance: one row per asset of each new Kraken Balance answer, in stg_info's shape: the balance then.
-- depends_on: stg_responses
--
-- {"error": [], "result": {ASSET: "balance", ...}}: the account's balances, keyed by Kraken's asset codes.
-- Kraken names no account in any answer: the balances are filed under the run's account, or '-'.
WITH answers AS (
    SELECT record_id, exchange, received_at, collector_run, try(decode(body)) AS text
    FROM raw_new
    WHERE exchange = 'kraken' AND endpoint = 'balance' AND error_class IS NULL
),
parsed AS (
    SELECT *, try(json_transform(text, '{"error":"VARCHAR[]","errors":[{"errorClass":"VARCHAR","type":"VARCHAR"}],
                                          "result":"MAP(VARCHAR, VARCHAR)"}')) AS s
    FROM answers
),
pages AS (
    SELECT record_id, exchange, received_at, collector_run, s.result AS wallets,
        CASE WHEN text IS NULL THEN 'balance: the body is not UTF-8 text'
             WHEN s IS NULL THEN 'balance: the body is not a JSON object'
             WHEN error IS NOT NULL
                 THEN 'balance: Kraken answered an error: ' || error
             WHEN s.result IS NULL THEN 'balance: the answer has no result object of balances'
        END AS problem
    FROM (SELECT *, kraken_error(s.error, s.errors) AS error FROM parsed)
),
wallets AS (
    SELECT record_id, exchange, received_at, collector_run, unnest(map_entries(wallets)) AS w
    FROM pages WHERE problem IS NULL
)
SELECT record_id, exchange, received_at, collector_run, NULL::VARCHAR AS account, kraken_currency(w.key) AS currency,
    TRY_CAST(kraken_amount(w.value) AS DECIMAL(18, 8)) AS balance,
    -- balances.balance is NOT NULL: a balance that is no amount rejects the answer rather than stop the build.
    CASE WHEN TRY_CAST(kraken_amount(w.value) AS DECIMAL(18, 8)) IS NULL
        THEN 'balance: the ' || w.key || ' balance is no exact decimal of at most 8 decimals: '
             || coalesce('"' || w.value || '"', 'none') END AS problem
FROM wallets
UNION ALL BY NAME
SELECT record_id, exchange, received_at, collector_run, problem FROM pages WHERE problem IS NOT NULL
