-- quarantine: raw records that did not load, with the reason; the raw store still holds them.
--
-- Incremental: this build's rejected records are appended. Error responses (the collector's
-- error_class) are here as evidence of the exchange's behaviour, as are bodies that do not parse.
CREATE TABLE IF NOT EXISTS quarantine (
    record_id VARCHAR NOT NULL,
    exchange VARCHAR NOT NULL,
    endpoint VARCHAR NOT NULL,
    market VARCHAR NOT NULL,
    api_version TINYINT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    http_status SMALLINT,
    error_class VARCHAR,
    reason VARCHAR NOT NULL,
    file VARCHAR NOT NULL
);
COMMENT ON TABLE quarantine IS 'Raw records that did not load, and why';
COMMENT ON COLUMN quarantine.record_id IS 'The raw record (its body is in the raw store, file)';
COMMENT ON COLUMN quarantine.error_class IS 'What the collector saw (timeout, http_5xx, not_json, ...), NULL when the body looked good';
COMMENT ON COLUMN quarantine.reason IS 'Why it did not load, one line';
COMMENT ON COLUMN quarantine.file IS 'The raw Parquet file holding the record';

INSERT INTO quarantine
SELECT s.record_id, s.exchange, s.endpoint, s.market, s.api_version, s.received_at, s.http_status, s.error_class,
    q.reason, s.file
FROM stg_rejects AS q JOIN stg_responses AS s USING (record_id)
ORDER BY s.received_at, s.record_id;
