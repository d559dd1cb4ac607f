-- staged_endpoints: the (exchange, endpoint) answers some staging model reads. A new exchange's
-- staging models add their rows here.
SELECT * FROM (VALUES
    ('mtgox', 'trades'), ('mtgox', 'ticker'), ('mtgox', 'depth'), ('mtgox', 'full_depth'),
    ('mtgox', 'wallet_history'), ('mtgox', 'info'), ('mtgox', 'orders'),
    ('kraken', 'trades'), ('kraken', 'ticker'), ('kraken', 'depth'), ('kraken', 'ohlc'), ('kraken', 'ledgers'),
    ('kraken', 'trades_history'), ('kraken', 'balance'), ('kraken', 'time'), ('kraken', 'asset_pairs')
) AS t(exchange, endpoint)
