-- stg_kraken_ledgers: one row per entry of each new Kraken Ledgers page, in stg_wallet_history's shape, exact.
-- depends_on: stg_responses
--
-- {"error": [], "result": {"ledger": {LEDGER_ID: {refid, time, type, subtype, aclass, asset, amount, fee, balance}},
-- "count": N}}: one page of 50 of the account's N entries, most recent first, from offset `ofs` (the request's).
-- amount is signed and fee comes off the same entry, so the balance after it is the one before plus amount - fee:
-- that is `delta`, and `value` is the amount without its sign, as wallet history has it.
-- idx numbers the account's entries from the oldest, every asset in one sequence (idx_series '*'): the entry at
-- position i (from 1) of a page is number count - ofs - i + 1. New entries push old ones down the pages but
-- raise count as much, so an entry keeps its idx in every page that holds it, and a page never fetched leaves
-- a hole the ledger_continuity check sees. That holds only for the whole ledger: a page asked with `start`
-- counts from there, one asked with `asset` or `type` counts some entries only, and one asked without a count
-- cannot be placed; they are rejected, with the reason, rather than numbered wrong.
WITH answers AS (
    SELECT record_id, exchange, received_at, collector_run, params, try(decode(body)) AS text
    FROM raw_new
    WHERE exchange = 'kraken' AND endpoint = 'ledgers' AND error_class IS NULL
),
parsed AS (
    SELECT *,
        try(json_transform(text, '{"error":"VARCHAR[]","errors":[{"errorClass":"VARCHAR","type":"VARCHAR"}],"count":"VARCHAR",
            "result":{"count":"VARCHAR",
                      "ledger":"MAP(VARCHAR, STRUCT(refid VARCHAR, time DECIMAL(38, 12), type VARCHAR, subtype VARCHAR, aclass VARCHAR, asset VARCHAR, amount VARCHAR, fee VARCHAR, balance VARCHAR))"}}'))
            AS s,
        coalesce(kraken_integer(try(json_extract_string(params, '$.ofs'))), 0) AS ofs,
        try(json_extract_string(params, '$.start')) AS start_param,
        try(json_extract_string(params, '$.asset')) AS asset_param,
        try(json_extract_string(params, '$.type')) AS type_param,
        try(json_extract_string(params, '$.aclass')) AS aclass_param
    FROM answers
),
pages AS (
    SELECT record_id, exchange, received_at, collector_run, ofs, s.result.ledger AS ledger,
        -- The spec's own example puts count beside result rather than in it.
        kraken_integer(coalesce(s.result.count, s.count)) AS count,
        CASE WHEN text IS NULL THEN 'ledgers: the body is not UTF-8 text'
             WHEN s IS NULL THEN 'ledgers: the body is not a JSON object'
             WHEN error IS NOT NULL
                 THEN 'ledgers: Kraken answered an error: ' || error
             WHEN s.result.ledger IS NULL THEN 'ledgers: the answer has no result with a ledger object of entries'
             WHEN start_param IS NOT NULL
                 THEN 'ledgers: a page asked with start=' || start_param || ' counts from there, so its entries cannot '
                      || 'be numbered in the ledger (ask with ofs, and end if need be)'
             WHEN asset_param IS NOT NULL OR coalesce(type_param, 'all') <> 'all'
                  OR coalesce(aclass_param, 'currency') <> 'currency'
                 THEN 'ledgers: a page asked for some entries only (' || concat_ws(', ', 'asset=' || asset_param,
                      'type=' || type_param, 'aclass=' || aclass_param) || ') cannot be numbered in the whole ledger'
             WHEN kraken_integer(coalesce(s.result.count, s.count)) IS NULL
                 THEN 'ledgers: the page has no count (without_count?), so its entries cannot be numbered'
             WHEN kraken_integer(coalesce(s.result.count, s.count)) - ofs < cardinality(s.result.ledger)
                 THEN 'ledgers: the page holds ' || cardinality(s.result.ledger) || ' entries from offset ' || ofs
                      || ', more than its count ' || coalesce(s.result.count, s.count) || ' leaves room for'
        END AS problem
    FROM (SELECT *, kraken_error(s.error, s.errors) AS error FROM parsed)
),
entries AS (
    SELECT record_id, exchange, received_at, collector_run, count - ofs - position + 1 AS idx, e.key AS entry_id,
        e.value AS l
    FROM (SELECT *, unnest(map_entries(ledger)) AS e, generate_subscripts(map_keys(ledger), 1) AS position
          FROM pages WHERE problem IS NULL)
),
typed AS (
    SELECT record_id, exchange, received_at, collector_run, idx, entry_id, l,
        kraken_currency(l.asset) AS currency,
        utc_us(kraken_us(l.time)) AS ts,
        TRY_CAST(kraken_amount(l.amount) AS DECIMAL(18, 8)) AS amount,
        TRY_CAST(kraken_amount(l.fee) AS DECIMAL(18, 8)) AS fee,
        TRY_CAST(kraken_amount(l.balance) AS DECIMAL(18, 8)) AS balance
    FROM entries
),
deltas AS (
    -- TRY_CAST: the difference of two DECIMAL(18, 8) may not fit one, and account_ledger.delta would stop the build.
    SELECT *, TRY_CAST(amount - fee AS DECIMAL(18, 8)) AS delta FROM typed
)
SELECT record_id, exchange, received_at, collector_run, currency, idx, ts, l.type AS type, abs(amount) AS value,
    balance, nullif(l.subtype, '') AS info, NULL::BIGINT AS tid, NULL::VARCHAR AS order_id,
    delta, fee, '*' AS idx_series, entry_id, l.refid AS ref_id,
    CASE WHEN currency IS NULL THEN 'ledgers: entry ' || entry_id || ' has no asset'
         WHEN ts IS NULL THEN 'ledgers: entry ' || entry_id || ' has no valid time'
         -- account_ledger.type is NOT NULL: an entry without one would stop the build there.
         WHEN l.type IS NULL THEN 'ledgers: entry ' || entry_id || ' has no type'
         WHEN amount IS NULL OR fee IS NULL OR balance IS NULL
             THEN 'ledgers: entry ' || entry_id || ' has an amount, fee or balance that is no exact decimal of at most '
                  || '8 decimals (' || coalesce(l.amount, '-') || ', ' || coalesce(l.fee, '-') || ', '
                  || coalesce(l.balance, '-') || ')'
         WHEN delta IS NULL THEN 'ledgers: entry ' || entry_id || ' has an amount - fee too large for the ledger'
    END AS problem
FROM deltas
UNION ALL BY NAME
SELECT record_id, exchange, received_at, collector_run, problem FROM pages WHERE problem IS NOT NULL
