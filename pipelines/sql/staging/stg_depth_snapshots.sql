-- stg_depth_snapshots: the new book snapshots of every exchange, one shape. Each exchange's staging adds a branch.
-- materialized: view
-- depends_on: stg_mtgox_depth_snapshots, stg_kraken_depth_snapshots
SELECT * FROM stg_mtgox_depth_snapshots
UNION ALL BY NAME
SELECT * FROM stg_kraken_depth_snapshots
