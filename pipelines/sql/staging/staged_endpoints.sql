-- staged_endpoints: the (exchange, endpoint) answers some staging model reads. A new exchange's
-- staging models add their rows here.
SELECT * FROM (VALUES
    ('mtgox', 'trades'), ('mtgox', 'ticker'), ('mtgox', 'depth'), ('mtgox', 'full_depth'),
    ('mtgox', 'wallet_history'), ('mtgox', 'info'), ('mtgox', 'orders')
) AS t(exchange, endpoint)
