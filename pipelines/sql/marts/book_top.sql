-- book_top: per order-book snapshot, the best bid and ask, spread, mid, and the amounts near mid.
--
-- Incremental: computed for this build's new snapshots only. The amounts within 1 % and 5 % of mid
-- count bids priced at least mid * 0.99 (0.95) and asks at most mid * 1.01 (1.05). A side with no
-- level leaves best price, spread and mid NULL.
CREATE TABLE IF NOT EXISTS book_top (
    snapshot_id VARCHAR NOT NULL,
    exchange VARCHAR NOT NULL,
    market VARCHAR NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    best_bid DECIMAL(38, 8),
    best_ask DECIMAL(38, 8),
    spread DECIMAL(38, 8),
    mid DECIMAL(38, 9),
    bid_amount_1pct DECIMAL(38, 8),
    ask_amount_1pct DECIMAL(38, 8),
    bid_amount_5pct DECIMAL(38, 8),
    ask_amount_5pct DECIMAL(38, 8)
);
COMMENT ON TABLE book_top IS 'Top of the book per snapshot: best prices, spread, mid and the amounts near mid';
COMMENT ON COLUMN book_top.best_bid IS 'Highest bid price';
COMMENT ON COLUMN book_top.best_ask IS 'Lowest ask price';
COMMENT ON COLUMN book_top.spread IS 'best_ask - best_bid (negative for a crossed book)';
COMMENT ON COLUMN book_top.mid IS '(best_bid + best_ask) / 2, exact';
COMMENT ON COLUMN book_top.bid_amount_1pct IS 'BTC bid at prices within 1 % below mid';
COMMENT ON COLUMN book_top.ask_amount_1pct IS 'BTC asked at prices within 1 % above mid';
COMMENT ON COLUMN book_top.bid_amount_5pct IS 'BTC bid at prices within 5 % below mid';
COMMENT ON COLUMN book_top.ask_amount_5pct IS 'BTC asked at prices within 5 % above mid';

INSERT INTO book_top
WITH snapshots AS (
    SELECT snapshot_id, exchange, market, received_at FROM stg_depth_snapshots
    WHERE snapshot_id NOT IN (SELECT record_id FROM stg_rejects)
),
levels AS (
    SELECT snapshot_id, side, price, amount FROM stg_depth_levels
    WHERE snapshot_id IN (SELECT snapshot_id FROM snapshots)
),
best AS (
    SELECT snapshot_id, max(price) FILTER (WHERE side = 'bid') AS best_bid, min(price) FILTER (WHERE side = 'ask') AS best_ask
    FROM levels GROUP BY snapshot_id
),
mids AS (
    SELECT s.*, b.best_bid, b.best_ask, b.best_ask - b.best_bid AS spread,
        CAST((CAST(b.best_bid AS DECIMAL(38, 9)) + b.best_ask) * 0.5 AS DECIMAL(38, 9)) AS mid
    FROM snapshots AS s LEFT JOIN best AS b USING (snapshot_id)
)
SELECT m.snapshot_id, m.exchange, m.market, m.received_at, m.best_bid, m.best_ask, m.spread, m.mid,
    coalesce(sum(l.amount) FILTER (WHERE l.side = 'bid' AND l.price >= m.mid * 0.99), 0),
    coalesce(sum(l.amount) FILTER (WHERE l.side = 'ask' AND l.price <= m.mid * 1.01), 0),
    coalesce(sum(l.amount) FILTER (WHERE l.side = 'bid' AND l.price >= m.mid * 0.95), 0),
    coalesce(sum(l.amount) FILTER (WHERE l.side = 'ask' AND l.price <= m.mid * 1.05), 0)
FROM mids AS m LEFT JOIN levels AS l USING (snapshot_id)
GROUP BY ALL
ORDER BY m.exchange, m.market, m.received_at;
