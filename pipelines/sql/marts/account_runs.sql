-- account_runs: which account each collector run recorded, from the Login of its info answers.
--
-- Raw records of account calls carry no account name (never the API key): the name comes from
-- the info answer the same run recorded. A run that recorded no info answer files its history
-- under account '-'.
CREATE TABLE IF NOT EXISTS account_runs (
    exchange VARCHAR NOT NULL,
    collector_run VARCHAR NOT NULL,
    account VARCHAR NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE account_runs IS 'The account (info Login) each collector run recorded';

INSERT INTO account_runs
SELECT exchange, collector_run, arg_min(account, received_at), min(received_at)
FROM stg_info
WHERE account IS NOT NULL AND record_id NOT IN (SELECT record_id FROM stg_rejects)
  AND (exchange, collector_run) NOT IN (SELECT (exchange, collector_run) FROM account_runs)
GROUP BY exchange, collector_run;
