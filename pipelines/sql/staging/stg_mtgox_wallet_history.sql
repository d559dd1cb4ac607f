-- stg_mtgox_wallet_history: one row per wallet-history entry of each new answer, exact.
-- depends_on: stg_responses
--
-- v1/v2 answer a page {records, result: [entries], current_page, max_page} of JSON entries; v0
-- answers history_<CUR>.csv, the whole ledger as CSV (Index,Date,Type,Info,Value,Balance), whose
-- currency is in the path. Value is unsigned: the entry's type says which way it moved the balance.
WITH answers AS (
    SELECT r.record_id, r.exchange, r.api_version, r.received_at, r.collector_run,
        try(decode(r.body)) AS text,
        coalesce(try(json_extract_string(r.params, '$.currency')), regexp_extract(r.path, 'history_([A-Z]{3})\.csv$', 1))
            AS requested_currency
    FROM raw_new AS r
    WHERE r.error_class IS NULL AND r.exchange = 'mtgox' AND r.endpoint = 'wallet_history'
),
pages AS (
    SELECT *, try(json_transform(mtgox_payload(text, api_version), '{"result":[{
        "Index":"VARCHAR","Date":"VARCHAR","Type":"VARCHAR","Info":"VARCHAR",
        "Value":{"value":"VARCHAR","value_int":"VARCHAR","currency":"VARCHAR"},
        "Balance":{"value":"VARCHAR","value_int":"VARCHAR","currency":"VARCHAR"},
        "Link":["VARCHAR"], "Trade":{"oid":"VARCHAR","tid":"VARCHAR"}}]}')).result AS entries
    -- A body that is not UTF-8 (text NULL) is read here too, to be quarantined: NOT starts_with(NULL) drops it.
    FROM answers WHERE text IS NULL OR NOT starts_with(text, 'Index,')
),
json_rows AS (
    SELECT record_id, exchange, received_at, collector_run, requested_currency, unnest(entries) AS e
    FROM pages WHERE entries IS NOT NULL
),
csv_lines AS (
    SELECT record_id, exchange, received_at, collector_run, requested_currency,
        regexp_extract(line, '^(\d+),"?([^",]*)"?,([^,]*),("(?:[^"]|"")*"|[^,]*),([^,]*),([^,]*)$',
                       ['idx', 'date', 'type', 'info', 'value', 'balance']) AS c, line
    FROM (SELECT *, unnest(string_split(replace(text, chr(13), ''), chr(10))[2:]) AS line
          FROM answers WHERE starts_with(text, 'Index,'))
    WHERE line <> ''
),
entries AS (
    SELECT record_id, exchange, received_at, collector_run,
        coalesce(e.Value.currency, e.Balance.currency, requested_currency) AS currency,
        TRY_CAST(e.Index AS BIGINT) AS idx,
        utc_s(TRY_CAST(e.Date AS BIGINT)) AS ts,
        e.Type AS type,
        TRY_CAST(mtgox_money(e.Value, coalesce(e.Value.currency, requested_currency)) AS DECIMAL(18, 8)) AS value,
        TRY_CAST(mtgox_money(e.Balance, coalesce(e.Balance.currency, requested_currency)) AS DECIMAL(18, 8)) AS balance,
        e.Info AS info,
        TRY_CAST(coalesce(e.Trade.tid, CASE WHEN e.Link[2] = 'Money_Trade' THEN e.Link[3] END,
                          regexp_extract(e.Info, '\[tid:(\d+)\]', 1)) AS BIGINT) AS tid,
        e.Trade.oid AS order_id,
        NULL::VARCHAR AS problem
    FROM json_rows
    UNION ALL
    SELECT record_id, exchange, received_at, collector_run, requested_currency AS currency,
        TRY_CAST(c.idx AS BIGINT),
        TRY_CAST(TRY_CAST(c.date AS TIMESTAMP) AS TIMESTAMPTZ),
        c.type,
        TRY_CAST(c.value AS DECIMAL(18, 8)),
        TRY_CAST(c.balance AS DECIMAL(18, 8)),
        replace(trim(c.info, '"'), '""', '"'),
        TRY_CAST(regexp_extract(c.info, '\[tid:(\d+)\]', 1) AS BIGINT),
        NULL,
        CASE WHEN c.idx = '' THEN 'wallet_history: a CSV line that is not Index,Date,Type,Info,Value,Balance: '
            || left(line, 80) END
    FROM csv_lines
)
SELECT * EXCLUDE (problem),
    coalesce(problem,
        CASE WHEN idx IS NULL THEN 'wallet_history: an entry without an Index'
             WHEN currency IS NULL THEN 'wallet_history: entry ' || idx || ' has no currency'
             WHEN ts IS NULL THEN 'wallet_history: entry ' || idx || ' has no valid Date'
             -- account_ledger.type is NOT NULL: an entry without one would stop the build there.
             WHEN type IS NULL THEN 'wallet_history: entry ' || idx || ' has no Type'
             WHEN value IS NULL OR balance IS NULL THEN 'wallet_history: entry ' || idx || ' has no valid Value or Balance'
        END) AS problem
FROM entries
UNION ALL BY NAME
SELECT record_id, exchange, received_at, collector_run,
    CASE WHEN text IS NULL THEN 'wallet_history: the body is not UTF-8 text'
         ELSE 'wallet_history: the answer has no list of entries ("result")' END AS problem
FROM pages WHERE entries IS NULL
