-- stg_mtgox_info: one row per wallet of each new account-info answer: the balance then, and who.
-- depends_on: stg_responses
--
-- v1/v2 info answers {Login, Wallets: {CUR: {Balance: money, ...}}, Trade_Fee, Rights}, and v0
-- info.php the same without envelope; Wallets is a map whose keys are currencies. The 2011
-- getFunds.php answered only {"usds": 3.7, "btcs": 22}, JSON floats.
WITH answers AS (
    SELECT r.record_id, r.exchange, r.api_version, r.received_at, r.collector_run,
        mtgox_payload(try(decode(r.body)), r.api_version) AS payload
    FROM raw_new AS r
    WHERE r.error_class IS NULL AND r.exchange = 'mtgox' AND r.endpoint = 'info'
),
parsed AS (
    SELECT *, try(json_transform(payload, '{"Login":"VARCHAR","Trade_Fee":"VARCHAR","Rights":["VARCHAR"],
        "Wallets":"MAP(VARCHAR, STRUCT(Balance STRUCT(value VARCHAR, value_int VARCHAR, currency VARCHAR)))"}')) AS i
    FROM answers
),
funds AS (
    SELECT *, try(json_transform(payload, '{"usds":"VARCHAR","btcs":"VARCHAR"}')) AS f
    FROM parsed WHERE i.Wallets IS NULL
),
wallets AS (
    SELECT *, unnest(map_entries(i.Wallets)) AS w FROM parsed WHERE i.Wallets IS NOT NULL
)
SELECT record_id, exchange, received_at, collector_run, i.Login AS account,
    TRY_CAST(i.Trade_Fee AS DECIMAL(9, 4)) AS trade_fee_pct, array_to_string(i.Rights, ',') AS rights,
    w.key AS currency,
    TRY_CAST(mtgox_money(w.value.Balance, w.key) AS DECIMAL(18, 8)) AS balance,
    CASE WHEN TRY_CAST(mtgox_money(w.value.Balance, w.key) AS DECIMAL(18, 8)) IS NULL
        THEN 'info: the ' || w.key || ' wallet has no valid Balance' END AS problem
FROM wallets
UNION ALL BY NAME
SELECT record_id, exchange, received_at, collector_run, currency, balance,
    -- balances.balance is NOT NULL: funds that are no amount reject the answer rather than stop the build.
    CASE WHEN balance IS NULL THEN 'info: the ' || currency || ' funds are no valid amount' END AS problem
FROM (SELECT record_id, exchange, received_at, collector_run, unnest([
          {'currency': 'BTC', 'balance': TRY_CAST(f.btcs AS DECIMAL(18, 8))},
          {'currency': 'USD', 'balance': TRY_CAST(f.usds AS DECIMAL(18, 8))}], recursive := true)
      FROM funds WHERE f.btcs IS NOT NULL OR f.usds IS NOT NULL)
UNION ALL BY NAME
SELECT record_id, exchange, received_at, collector_run,
    CASE WHEN payload IS NULL THEN 'info: the body is not UTF-8 text'
         ELSE 'info: the answer has no Wallets' END AS problem
FROM funds WHERE f.btcs IS NULL AND f.usds IS NULL
