-- stg_rejects: the new records that go to quarantine, each once, with the first reason found.
-- depends_on: stg_responses, stg_trades, stg_ticker, stg_depth_levels, stg_depth_snapshots, stg_wallet_history, stg_info, stg_orders, stg_account_trades, stg_exchange_ohlc, stg_kraken_time, stg_kraken_asset_pairs
--
-- A record is loaded whole or not at all: one bad trade sets aside its page, so a table never holds
-- half an answer. Marts skip every record listed here.
WITH problems AS (
    SELECT record_id, reason AS problem, 0 AS step FROM stg_responses WHERE reason IS NOT NULL
    UNION ALL SELECT record_id, problem, 1 FROM stg_trades WHERE problem IS NOT NULL
    UNION ALL SELECT record_id, problem, 1 FROM stg_ticker WHERE problem IS NOT NULL
    UNION ALL SELECT snapshot_id, problem, 1 FROM stg_depth_snapshots WHERE problem IS NOT NULL
    UNION ALL SELECT snapshot_id, problem, 2 FROM stg_depth_levels WHERE problem IS NOT NULL
    -- Whatever the exchange: book_top works in 9 to 11 decimals of DECIMAL(38), which holds prices below 10^27; no
    -- real book came near (found by tests/integration/test_staging_properties.py with a mutated capture).
    UNION ALL SELECT snapshot_id, 'depth: a ' || side || ' level priced ' || price || ', beyond any real book', 2
        FROM stg_depth_levels WHERE problem IS NULL AND price >= 1e18
    UNION ALL SELECT record_id, problem, 1 FROM stg_wallet_history WHERE problem IS NOT NULL
    UNION ALL SELECT record_id, problem, 1 FROM stg_info WHERE problem IS NOT NULL
    UNION ALL SELECT record_id, problem, 1 FROM stg_orders WHERE problem IS NOT NULL
    UNION ALL SELECT record_id, problem, 1 FROM stg_account_trades WHERE problem IS NOT NULL
    UNION ALL SELECT record_id, problem, 1 FROM stg_exchange_ohlc WHERE problem IS NOT NULL
    UNION ALL SELECT record_id, problem, 1 FROM stg_kraken_time WHERE problem IS NOT NULL
    UNION ALL SELECT record_id, problem, 1 FROM stg_kraken_asset_pairs WHERE problem IS NOT NULL
)
SELECT record_id, arg_min(problem, step) AS reason FROM problems GROUP BY record_id
