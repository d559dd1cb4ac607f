-- stg_depth_levels: the new book levels of every exchange, one shape. Each exchange's staging adds a branch.
-- materialized: view
-- depends_on: stg_mtgox_depth_levels, stg_kraken_depth_levels
SELECT * FROM stg_mtgox_depth_levels
UNION ALL BY NAME
SELECT * FROM stg_kraken_depth_levels
