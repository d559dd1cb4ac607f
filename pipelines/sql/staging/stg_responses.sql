-- stg_responses: every new raw record once, with why it cannot be staged (NULL when it can).
-- depends_on: staged_endpoints
--
-- Records the collector marked as failed (error_class) are kept as evidence but never parsed;
-- a record of an endpoint no staging model reads is set aside too, so nothing vanishes silently.
SELECT record_id, exchange, endpoint, market, api_version, received_at, http_status, error_class, file,
    'error response (' || error_class || ')'
        -- `error` as Mt.Gox and Kraken send it; `errors`, the structured objects of Kraken's newer error answers.
        || coalesce(': ' || left(coalesce(try(json_extract_string(try(decode(body)), '$.error')),
                                          try(json_extract_string(try(decode(body)), '$.errors'))), 200), '') AS reason
FROM raw_new
WHERE error_class IS NOT NULL
UNION ALL
-- Only the failures' bodies are read here: the good ones stream through the typed models alone.
SELECT record_id, exchange, endpoint, market, api_version, received_at, http_status, error_class, file,
    CASE WHEN (exchange, endpoint) NOT IN (SELECT (exchange, endpoint) FROM staged_endpoints) THEN
        'no staging model reads ' || exchange || ' ' || endpoint || ' answers' END AS reason
FROM raw_new
WHERE error_class IS NULL
