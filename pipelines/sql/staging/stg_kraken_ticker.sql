-- stg_kraken_ticker: one row per new Kraken Ticker answer, in stg_ticker's shape, every price exact.
-- depends_on: stg_responses
--
-- {"error": [], "result": {PAIR: {a: [ask, whole lot volume, lot volume], b: [bid, ...], c: [last, lot volume],
-- v: [volume today, last 24 h], p: [vwap today, last 24 h], t: [trades today, last 24 h], l: [low ...], h: [high ...],
-- o: today's opening price}}}, keyed by Kraken's pair id (one key). The 24-hour values fill ticker's 24-hour columns;
-- Kraken sends no average, no own time stamp and no last price in other currencies (NULL there). 2013 answers have
-- two-element a and b: only the first element is read.
WITH answers AS (
    SELECT record_id, exchange, market, api_version, received_at, try(decode(body)) AS text
    FROM raw_new
    WHERE exchange = 'kraken' AND endpoint = 'ticker' AND error_class IS NULL
),
parsed AS (
    SELECT *, try(json_transform(text, '{"error":"VARCHAR[]","errors":[{"errorClass":"VARCHAR","type":"VARCHAR"}],
        "result":"MAP(VARCHAR, STRUCT(a VARCHAR[], b VARCHAR[], c VARCHAR[], v VARCHAR[], p VARCHAR[], h VARCHAR[], l VARCHAR[]))"}'))
        AS s
    FROM answers
),
keyed AS (
    SELECT record_id, count(*) AS pairs, any_value(e.value) AS t
    FROM (SELECT record_id, unnest(map_entries(s.result)) AS e FROM parsed)
    GROUP BY record_id
),
typed AS (
    SELECT p.record_id, p.exchange, p.market, p.api_version, p.received_at, p.text, p.s, p.error, k.pairs, k.t,
        substr(p.market, 4) AS currency,
        TRY_CAST(kraken_amount(k.t.h[2]) AS DECIMAL(18, 8)) AS high,
        TRY_CAST(kraken_amount(k.t.l[2]) AS DECIMAL(18, 8)) AS low,
        TRY_CAST(kraken_amount(k.t.p[2]) AS DECIMAL(18, 8)) AS vwap,
        TRY_CAST(kraken_amount(k.t.v[2]) AS DECIMAL(18, 8)) AS vol,
        TRY_CAST(kraken_amount(k.t.c[1]) AS DECIMAL(18, 8)) AS last,
        TRY_CAST(kraken_amount(k.t.b[1]) AS DECIMAL(18, 8)) AS buy,
        TRY_CAST(kraken_amount(k.t.a[1]) AS DECIMAL(18, 8)) AS sell
    FROM (SELECT *, kraken_error(s.error, s.errors) AS error FROM parsed) AS p LEFT JOIN keyed AS k USING (record_id)
)
SELECT record_id, exchange, market, api_version, received_at, NULL::TIMESTAMPTZ AS now, currency,
    high, low, NULL::DECIMAL(18, 8) AS avg, vwap, vol, last, NULL::DECIMAL(18, 8) AS last_local,
    NULL::DECIMAL(18, 8) AS last_orig, NULL::VARCHAR AS last_orig_currency, NULL::DECIMAL(18, 8) AS last_all, buy, sell,
    CASE WHEN text IS NULL THEN 'ticker: the body is not UTF-8 text'
         WHEN s IS NULL THEN 'ticker: the body is not a JSON object'
         WHEN error IS NOT NULL
             THEN 'ticker: Kraken answered an error: ' || error
         WHEN s.result IS NULL OR pairs IS NULL THEN 'ticker: the answer has no result object naming a pair'
         WHEN pairs > 1 THEN 'ticker: the result names ' || pairs || ' pairs, not one'
         -- A field that is sent but is no exact decimal rejects the answer rather than become NULL.
         WHEN (t.h[2] IS NOT NULL AND high IS NULL) OR (t.l[2] IS NOT NULL AND low IS NULL)
             OR (t.p[2] IS NOT NULL AND vwap IS NULL) OR (t.v[2] IS NOT NULL AND vol IS NULL)
             OR (t.c[1] IS NOT NULL AND last IS NULL) OR (t.b[1] IS NOT NULL AND buy IS NULL)
             OR (t.a[1] IS NOT NULL AND sell IS NULL)
             THEN 'ticker: a price or volume is not an exact decimal of at most 8 decimals (h ' || coalesce(t.h[2], '-')
                  || ', l ' || coalesce(t.l[2], '-') || ', p ' || coalesce(t.p[2], '-') || ', v ' || coalesce(t.v[2], '-')
                  || ', c ' || coalesce(t.c[1], '-') || ', b ' || coalesce(t.b[1], '-') || ', a ' || coalesce(t.a[1], '-')
                  || ')'
         WHEN last IS NULL AND buy IS NULL AND sell IS NULL THEN 'ticker: the answer has no last, bid or ask price'
    END AS problem
FROM typed
