-- stg_kraken_time: one row per new Kraken Time answer: the exchange's clock when it answered.
-- depends_on: stg_responses
--
-- {"error": [], "result": {"unixtime": 1688671969, "rfc1123": "..."}}. No table keeps it (the raw store does):
-- staging reads it so that a good answer loads and a bad one goes to quarantine with its reason.
WITH answers AS (
    SELECT record_id, exchange, received_at, try(decode(body)) AS text
    FROM raw_new
    WHERE exchange = 'kraken' AND endpoint = 'time' AND error_class IS NULL
),
parsed AS (
    SELECT *, try(json_transform(text, '{"error":"VARCHAR[]","errors":[{"errorClass":"VARCHAR","type":"VARCHAR"}],
                                          "result":{"unixtime":"VARCHAR","rfc1123":"VARCHAR"}}')) AS s
    FROM answers
)
SELECT record_id, exchange, received_at, utc_s(kraken_integer(s.result.unixtime)) AS unixtime,
    CASE WHEN text IS NULL THEN 'time: the body is not UTF-8 text'
         WHEN s IS NULL THEN 'time: the body is not a JSON object'
         WHEN error IS NOT NULL
             THEN 'time: Kraken answered an error: ' || error
         WHEN utc_s(kraken_integer(s.result.unixtime)) IS NULL
             THEN 'time: the answer has no result with an integer unixtime'
    END AS problem
FROM (SELECT *, kraken_error(s.error, s.errors) AS error FROM parsed)
