-- balances: each wallet's balance over time, from the ledger (after every entry) and from info snapshots.
-- depends_on: account_ledger, account_runs
--
-- Incremental: the balances of this build's new ledger entries and info answers are appended.
CREATE TABLE IF NOT EXISTS balances (
    exchange VARCHAR NOT NULL,
    account VARCHAR NOT NULL,
    currency VARCHAR NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    balance DECIMAL(18, 8) NOT NULL,
    source VARCHAR NOT NULL,
    idx BIGINT
);
COMMENT ON TABLE balances IS 'Balance per wallet over time';
COMMENT ON COLUMN balances.ts IS 'When the balance held: the ledger entry''s time, or when the info answer arrived';
COMMENT ON COLUMN balances.balance IS 'Balance, exact';
COMMENT ON COLUMN balances.source IS 'ledger (after an entry) or info (a snapshot of the account)';
COMMENT ON COLUMN balances.idx IS 'The ledger entry''s idx, for source = ledger';

INSERT INTO balances
SELECT exchange, account, currency, ts, balance, 'ledger', idx FROM ledger_new
UNION ALL
SELECT i.exchange, coalesce(i.account, '-'), i.currency, i.received_at, i.balance, 'info', NULL
FROM stg_info AS i
WHERE i.record_id NOT IN (SELECT record_id FROM stg_rejects) AND i.currency IS NOT NULL
ORDER BY 1, 2, 3, 4;
