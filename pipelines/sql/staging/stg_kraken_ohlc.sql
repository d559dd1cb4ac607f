-- stg_kraken_ohlc: one row per bar of each new Kraken OHLC answer: the exchange's own bars, typed.
-- depends_on: stg_responses
--
-- {"error": [], "result": {PAIR: [[time, open, high, low, close, vwap, volume, count], ...], "last": <time>}}, keyed
-- by Kraken's pair id (the one key that is not "last"). time is the bar's start in integer seconds; prices and
-- volumes are strings. The width is the request's `interval` in minutes (Kraken's default 1). Kraken sends the
-- current, still open bar last: `committed` is false for that row, whose numbers will still change.
WITH answers AS (
    SELECT record_id, exchange, market, received_at,
        try(json_extract_string(params, '$.interval')) AS interval_param,
        try(decode(body)) AS text
    FROM raw_new
    WHERE exchange = 'kraken' AND endpoint = 'ohlc' AND error_class IS NULL
),
parsed AS (
    SELECT *, CASE WHEN interval_param IS NULL THEN 1 ELSE TRY_CAST(kraken_integer(interval_param) AS SMALLINT) END
            AS minutes,
        try(json_transform(text, '{"error":"VARCHAR[]","errors":[{"errorClass":"VARCHAR","type":"VARCHAR"}],
                                          "result":"MAP(VARCHAR, VARCHAR[][])"}')) AS s
    FROM answers
),
keyed AS (
    SELECT record_id, count(*) AS pairs, any_value(e.value) AS bars
    FROM (SELECT record_id, unnest(map_entries(s.result)) AS e FROM parsed)
    WHERE e.key <> 'last'
    GROUP BY record_id
),
pages AS (
    SELECT p.record_id, p.exchange, p.market, p.received_at, p.minutes, k.bars,
        CASE WHEN p.text IS NULL THEN 'ohlc: the body is not UTF-8 text'
             WHEN p.s IS NULL THEN 'ohlc: the body is not a JSON object'
             WHEN p.error IS NOT NULL
                 THEN 'ohlc: Kraken answered an error: ' || p.error
             WHEN p.s.result IS NULL THEN 'ohlc: the answer has no result object of bar lists'
             WHEN k.pairs IS NULL THEN 'ohlc: the result names no pair, only "last"'
             WHEN k.pairs > 1 THEN 'ohlc: the result names ' || k.pairs || ' pairs, not one'
             WHEN k.bars IS NULL THEN 'ohlc: the pair''s value is not a list of bars'
             WHEN coalesce(p.minutes, 0) NOT IN (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
                 THEN 'ohlc: the request''s interval ' || p.interval_param || ' is none Kraken has'
        END AS problem
    FROM (SELECT *, kraken_error(s.error, s.errors) AS error FROM parsed) AS p LEFT JOIN keyed AS k USING (record_id)
),
rows AS (
    SELECT record_id, exchange, market, received_at, minutes, len(bars) AS bars,
        unnest(bars) AS b, generate_subscripts(bars, 1) AS position
    FROM pages WHERE problem IS NULL
),
typed AS (
    SELECT record_id, exchange, market, received_at, minutes, position, position < bars AS committed, b,
        utc_s(kraken_integer(b[1])) AS bucket,
        TRY_CAST(kraken_amount(b[2]) AS DECIMAL(18, 8)) AS open,
        TRY_CAST(kraken_amount(b[3]) AS DECIMAL(18, 8)) AS high,
        TRY_CAST(kraken_amount(b[4]) AS DECIMAL(18, 8)) AS low,
        TRY_CAST(kraken_amount(b[5]) AS DECIMAL(18, 8)) AS close,
        TRY_CAST(kraken_amount(b[6]) AS DECIMAL(18, 8)) AS vwap,
        TRY_CAST(kraken_amount(b[7]) AS DECIMAL(18, 8)) AS volume,
        kraken_integer(b[8]) AS trades
    FROM rows
)
SELECT record_id, exchange, market, received_at, minutes, bucket, open, high, low, close, vwap, volume, trades,
    committed, position,
    CASE WHEN len(b) IS NULL OR len(b) < 8 THEN 'ohlc: bar ' || position || ' is not a list of 8 elements'
         WHEN bucket IS NULL THEN 'ohlc: bar ' || position || ' has no valid time: ' || coalesce(b[1], 'none')
         WHEN open IS NULL OR high IS NULL OR low IS NULL OR close IS NULL OR vwap IS NULL OR volume IS NULL
             OR trades IS NULL
             THEN 'ohlc: the bar at ' || b[1] || ' has a price, volume or count that is no exact number: ['
                  || array_to_string(b[2:8], ', ') || ']'
    END AS problem
FROM typed
UNION ALL BY NAME
SELECT record_id, exchange, market, received_at, minutes, problem FROM pages WHERE problem IS NOT NULL
