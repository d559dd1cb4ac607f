-- open_orders: the account's open orders as each orders answer listed them (one snapshot per answer).
-- depends_on: account_runs
CREATE TABLE IF NOT EXISTS open_orders (
    record_id VARCHAR NOT NULL,
    exchange VARCHAR NOT NULL,
    account VARCHAR NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    order_id VARCHAR NOT NULL,
    market VARCHAR,
    side VARCHAR,
    status VARCHAR,
    placed_at TIMESTAMPTZ,
    amount DECIMAL(18, 8),
    price DECIMAL(18, 8)
);
COMMENT ON TABLE open_orders IS 'Open orders per orders answer (a snapshot of the account''s orders)';
COMMENT ON COLUMN open_orders.side IS 'bid (buy) or ask (sell)';
COMMENT ON COLUMN open_orders.amount IS 'BTC still to fill';
COMMENT ON COLUMN open_orders.price IS 'Limit price (NULL for market orders)';

INSERT INTO open_orders
WITH runs AS (SELECT exchange, collector_run, arg_min(account, first_seen) AS account FROM account_runs GROUP BY ALL)
SELECT o.record_id, o.exchange, coalesce(r.account, '-'), o.received_at, o.order_id, o.market, o.side, o.status,
    o.placed_at, o.amount, o.price
FROM stg_orders AS o LEFT JOIN runs AS r USING (exchange, collector_run)
WHERE o.order_id IS NOT NULL AND o.record_id NOT IN (SELECT record_id FROM stg_rejects);
