-- account_ledger: the account's wallet history, one row per (exchange, account, currency, idx), exact.
-- depends_on: account_runs
--
-- Incremental: entries no earlier build stored are appended (pages overlap as new entries push
-- old ones down a page; the first copy received wins); kept in `ledger_new` for later models.
-- `value` is as Mt.Gox sent it, unsigned; `delta` is the signed change it made to the balance.
CREATE TABLE IF NOT EXISTS account_ledger (
    exchange VARCHAR NOT NULL,
    account VARCHAR NOT NULL,
    currency VARCHAR NOT NULL,
    idx BIGINT NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    type VARCHAR NOT NULL,
    value DECIMAL(18, 8) NOT NULL,
    delta DECIMAL(18, 8),
    balance DECIMAL(18, 8) NOT NULL,
    info VARCHAR,
    tid BIGINT,
    order_id VARCHAR,
    record_id VARCHAR NOT NULL
);
COMMENT ON TABLE account_ledger IS 'Wallet history: one row per (exchange, account, currency, idx)';
COMMENT ON COLUMN account_ledger.account IS 'Account name (the info answer''s Login), or - when the run recorded none';
COMMENT ON COLUMN account_ledger.currency IS 'Currency of the wallet';
COMMENT ON COLUMN account_ledger.idx IS 'The entry''s Index: 1 for the first entry of the wallet, one more for each after';
COMMENT ON COLUMN account_ledger.ts IS 'When the entry was made, UTC (seconds)';
COMMENT ON COLUMN account_ledger.type IS 'in, out, spent, earned, fee, deposit, withdraw';
COMMENT ON COLUMN account_ledger.value IS 'Amount of the entry as sent, unsigned, exact';
COMMENT ON COLUMN account_ledger.delta IS 'Signed change to the balance: + for in, earned, deposit; - for out, spent, fee, withdraw';
COMMENT ON COLUMN account_ledger.balance IS 'Balance of the wallet after the entry, exact';
COMMENT ON COLUMN account_ledger.info IS 'The exchange''s description of the entry';
COMMENT ON COLUMN account_ledger.tid IS 'Trade id, for entries of a trade';
COMMENT ON COLUMN account_ledger.order_id IS 'Order id (oid), for entries of a trade, when sent (v1/v2)';
COMMENT ON COLUMN account_ledger.record_id IS 'The raw record the entry was first read from';

CREATE OR REPLACE TEMP TABLE ledger_new AS
WITH runs AS (
    SELECT exchange, collector_run, arg_min(account, first_seen) AS account FROM account_runs GROUP BY ALL
),
fresh AS (
    SELECT h.exchange, coalesce(r.account, '-') AS account, h.currency, h.idx, h.ts, h.type, h.value,
        CASE WHEN h.type IN ('in', 'earned', 'deposit') THEN h.value
             WHEN h.type IN ('out', 'spent', 'fee', 'withdraw') THEN -h.value END AS delta,
        h.balance, h.info, h.tid, h.order_id, h.record_id, h.received_at
    FROM stg_wallet_history AS h LEFT JOIN runs AS r USING (exchange, collector_run)
    WHERE h.record_id NOT IN (SELECT record_id FROM stg_rejects)
    QUALIFY row_number() OVER (PARTITION BY h.exchange, account, h.currency, h.idx ORDER BY h.received_at, h.record_id) = 1
)
SELECT * EXCLUDE (received_at) FROM fresh AS f
WHERE NOT EXISTS (SELECT 1 FROM account_ledger AS l
                  WHERE l.exchange = f.exchange AND l.account = f.account AND l.currency = f.currency AND l.idx = f.idx);

INSERT INTO account_ledger SELECT * FROM ledger_new ORDER BY exchange, account, currency, idx;
