-- account_ledger: the account's wallet history, one row per (exchange, account, currency, idx), exact.
-- depends_on: account_runs
--
-- Incremental: entries no earlier build stored are appended (pages overlap as new entries push
-- old ones down a page; the first copy received wins); kept in `ledger_new` for later models.
-- `value` is unsigned, as Mt.Gox sends it; `delta` is the signed change it made to the balance
-- (Kraken's signed amount less the fee taken in the same entry).
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
    record_id VARCHAR NOT NULL,
    fee DECIMAL(18, 8),
    idx_series VARCHAR NOT NULL,
    entry_id VARCHAR,
    ref_id VARCHAR
);
COMMENT ON TABLE account_ledger IS 'Wallet history: one row per (exchange, account, currency, idx)';
COMMENT ON COLUMN account_ledger.account IS 'Account name (the info answer''s Login), or - when the run recorded none';
COMMENT ON COLUMN account_ledger.currency IS 'Currency of the wallet';
COMMENT ON COLUMN account_ledger.idx IS 'The entry''s number in its idx_series: 1 for the first, one more for each after (Mt.Gox Index)';
COMMENT ON COLUMN account_ledger.ts IS 'When the entry was made, UTC (Mt.Gox: seconds; Kraken: µs)';
COMMENT ON COLUMN account_ledger.type IS 'Mt.Gox: in, out, spent, earned, fee, deposit, withdraw; Kraken: trade, deposit, withdrawal, ...';
COMMENT ON COLUMN account_ledger.value IS 'Amount of the entry, unsigned, exact (Kraken''s signed amount without its sign)';
COMMENT ON COLUMN account_ledger.delta IS 'Signed change to the balance: + for in, earned, deposit; - for out, spent, fee, withdraw; Kraken: amount - fee';
COMMENT ON COLUMN account_ledger.balance IS 'Balance of the wallet after the entry, exact';
COMMENT ON COLUMN account_ledger.info IS 'The exchange''s description of the entry';
COMMENT ON COLUMN account_ledger.tid IS 'Trade id, for entries of a trade';
COMMENT ON COLUMN account_ledger.order_id IS 'Order id (oid), for entries of a trade, when sent (v1/v2)';
COMMENT ON COLUMN account_ledger.record_id IS 'The raw record the entry was first read from';
COMMENT ON COLUMN account_ledger.fee IS 'Fee taken in the entry itself (Kraken); NULL where fees are entries of their own (Mt.Gox type fee)';
COMMENT ON COLUMN account_ledger.idx_series IS 'What idx counts: the currency (a Mt.Gox wallet numbers its own entries) or * (Kraken numbers every asset''s entries in one sequence)';
COMMENT ON COLUMN account_ledger.entry_id IS 'The exchange''s id of the entry (Kraken ledger id), when it has one';
COMMENT ON COLUMN account_ledger.ref_id IS 'Kraken refid: what made the entry (for a trade, the fill''s txid)';

CREATE OR REPLACE TEMP TABLE ledger_new AS
WITH runs AS (
    SELECT exchange, collector_run, arg_min(account, first_seen) AS account FROM account_runs GROUP BY ALL
),
fresh AS (
    SELECT h.exchange, coalesce(r.account, '-') AS account, h.currency, h.idx, h.ts, h.type, h.value,
        -- Staging says the delta where the answer does (Kraken's signed amount); else the type tells the direction.
        coalesce(h.delta, CASE WHEN h.type IN ('in', 'earned', 'deposit') THEN h.value
                               WHEN h.type IN ('out', 'spent', 'fee', 'withdraw') THEN -h.value END) AS delta,
        h.balance, h.info, h.tid, h.order_id, h.record_id, h.fee, h.idx_series, h.entry_id, h.ref_id, h.received_at
    FROM stg_wallet_history AS h LEFT JOIN runs AS r USING (exchange, collector_run)
    WHERE h.record_id NOT IN (SELECT record_id FROM stg_rejects)
    QUALIFY row_number() OVER (PARTITION BY h.exchange, account, h.currency, h.idx ORDER BY h.received_at, h.record_id) = 1
)
SELECT * EXCLUDE (received_at) FROM fresh AS f
WHERE NOT EXISTS (SELECT 1 FROM account_ledger AS l
                  WHERE l.exchange = f.exchange AND l.account = f.account AND l.currency = f.currency AND l.idx = f.idx);

INSERT INTO account_ledger SELECT * FROM ledger_new ORDER BY exchange, account, currency, idx;
