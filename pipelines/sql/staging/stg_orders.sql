-- stg_orders: the new open-order snapshots of every exchange, one shape. Each exchange's staging adds a branch.
-- materialized: view
-- depends_on: stg_mtgox_orders
SELECT * FROM stg_mtgox_orders
