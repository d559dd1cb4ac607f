-- account_trades: the account's own fills, one row per (exchange, account, tid), from its ledger or as reported.
-- depends_on: account_ledger, account_runs, trades
--
-- Mt.Gox reports no fills: they are made from its wallet history, as below. Exchanges that report them
-- (Kraken's TradesHistory, through stg_account_trades) are taken as reported, at the end.
--
-- A fill leaves up to three ledger entries with the same tid: the BTC leg (in when buying, out
-- when selling), the money leg (spent or earned) and a fee (in either currency). The price is the
-- one the entry's Info states ("... at $125.00000"), exact. Incremental: the fills that this
-- build's new ledger entries belong to are recomputed from all their entries.
CREATE TABLE IF NOT EXISTS account_trades (
    exchange VARCHAR NOT NULL,
    account VARCHAR NOT NULL,
    tid BIGINT NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    side VARCHAR,
    amount DECIMAL(18, 8),
    price DECIMAL(18, 8),
    price_currency VARCHAR,
    quote_amount DECIMAL(18, 8),
    fee DECIMAL(18, 8),
    fee_currency VARCHAR,
    order_id VARCHAR
);
COMMENT ON TABLE account_trades IS 'The account''s own fills, one row per (exchange, account, tid)';
COMMENT ON COLUMN account_trades.tid IS 'Trade id (also in trades, for the public side of the fill)';
COMMENT ON COLUMN account_trades.ts IS 'When the fill was booked, UTC';
COMMENT ON COLUMN account_trades.side IS 'buy or sell (of BTC)';
COMMENT ON COLUMN account_trades.amount IS 'BTC bought or sold (NULL when the BTC wallet''s history is not recorded)';
COMMENT ON COLUMN account_trades.price IS 'Price per BTC, as the ledger states it (Kraken: as TradesHistory does)';
COMMENT ON COLUMN account_trades.price_currency IS 'Currency of price and quote_amount';
COMMENT ON COLUMN account_trades.quote_amount IS 'Money spent or earned (NULL when that wallet''s history is not recorded)';
COMMENT ON COLUMN account_trades.fee IS 'Fee charged for the fill (0 when none)';
COMMENT ON COLUMN account_trades.fee_currency IS 'Currency of fee (BTC when buying, money when selling on Mt.Gox; Kraken: the quote currency)';
COMMENT ON COLUMN account_trades.order_id IS 'The order the fill belongs to, when sent';

CREATE OR REPLACE TEMP TABLE account_fills_touched AS
SELECT DISTINCT exchange, account, tid FROM ledger_new WHERE tid IS NOT NULL;

DELETE FROM account_trades WHERE (exchange, account, tid) IN (SELECT (exchange, account, tid) FROM account_fills_touched);

INSERT INTO account_trades
WITH legs AS (
    SELECT l.* FROM account_ledger AS l
    WHERE l.tid IS NOT NULL AND (l.exchange, l.account, l.tid) IN (SELECT (exchange, account, tid) FROM account_fills_touched)
),
fills AS (
    SELECT exchange, account, tid, min(ts) AS ts,
        CASE WHEN bool_or(type IN ('in', 'spent')) THEN 'buy' WHEN bool_or(type IN ('out', 'earned')) THEN 'sell' END AS side,
        max(value) FILTER (WHERE type IN ('in', 'out')) AS amount,
        max(value) FILTER (WHERE type IN ('spent', 'earned')) AS quote_amount,
        any_value(currency) FILTER (WHERE type IN ('spent', 'earned')) AS quote_currency,
        coalesce(sum(value) FILTER (WHERE type = 'fee'), 0) AS fee,
        any_value(currency) FILTER (WHERE type = 'fee') AS fee_currency,
        TRY_CAST(replace(any_value(regexp_extract(info, ' at [^0-9]*([0-9][0-9,]*(\.[0-9]+)?)', 1))
                         FILTER (WHERE type <> 'fee'), ',', '') AS DECIMAL(18, 8)) AS price,
        any_value(order_id) AS order_id
    FROM legs GROUP BY exchange, account, tid
),
public_copy AS (
    -- The currency of the fill's primary public copy, for when the money leg's wallet is not recorded.
    SELECT exchange, tid, any_value(price_currency) AS price_currency FROM trades_stored
    WHERE tid IN (SELECT tid FROM account_fills_touched) AND "primary" IS NOT false
    GROUP BY exchange, tid
)
SELECT f.exchange, f.account, f.tid, f.ts, f.side, f.amount, f.price,
    coalesce(f.quote_currency, p.price_currency) AS price_currency,
    f.quote_amount, f.fee, f.fee_currency, f.order_id
FROM fills AS f LEFT JOIN public_copy AS p USING (exchange, tid)
ORDER BY f.exchange, f.account, f.ts, f.tid;

-- The fills exchanges report: this build's new ones that no earlier build stored are appended (pages overlap
-- as new fills push old ones down a page; the first copy received wins).
INSERT INTO account_trades
WITH runs AS (
    SELECT exchange, collector_run, arg_min(account, first_seen) AS account FROM account_runs GROUP BY ALL
),
fresh AS (
    SELECT t.exchange, coalesce(r.account, '-') AS account, t.tid, t.ts, t.side, t.amount, t.price, t.price_currency,
        t.quote_amount, t.fee, t.fee_currency, t.order_id
    FROM stg_account_trades AS t LEFT JOIN runs AS r USING (exchange, collector_run)
    WHERE t.record_id NOT IN (SELECT record_id FROM stg_rejects)
    QUALIFY row_number() OVER (PARTITION BY t.exchange, account, t.tid ORDER BY t.received_at, t.record_id) = 1
)
SELECT * FROM fresh AS f
WHERE NOT EXISTS (SELECT 1 FROM account_trades AS a
                  WHERE a.exchange = f.exchange AND a.account = f.account AND a.tid = f.tid)
ORDER BY exchange, account, ts, tid;
