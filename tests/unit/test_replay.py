"""load_replay: real Mt.Gox trade files load exactly, and every malformed input is refused in one line."""

from __future__ import annotations

import csv
import gzip
import json
from collections import Counter
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from emulator.errors import ReplayFileError
from emulator.model import RELAUNCH_TID, RELAUNCH_US, Trade
from emulator.replay import load_replay
from tests.shared import shared_path

BITCOINCHARTS = "data/real/mtgox-bitcoincharts-first100k/mtgox.csv.gz"
PYALGOTRADE = "data/real/mtgox-api-pyalgotrade-2013-01-01/trades-mgtox-usd-2013-01-01.csv"
SFERIK_V0 = "data/real/mtgox-api-sferik/2011-06-07_3bf489a/trades.json"
SFERIK_RELAUNCH = "data/real/mtgox-api-sferik/2011-06-27_ef81ff8/trades.json"
SFERIK_V1 = "data/real/mtgox-api-sferik/2013-04-13_1acffb3/trades.json"
XCHANGE_V1 = "data/real/mtgox-api-xchange/v1/marketdata/polling/example-trades-data.json"
XCHANGE_V0 = "data/real/mtgox-api-xchange/v0/marketdata/example-trades-data-v0.json"

US = 1_000_000
BEFORE_RELAUNCH = RELAUNCH_US // US - 1  # 2011-06-25 23:59:59 UTC
AFTER_RELAUNCH = RELAUNCH_US // US + 3600


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _write_json(tmp_path: Path, document: object, name: str = "trades.json") -> Path:
    return _write(tmp_path, name, json.dumps(document, indent=1))


def _trade(tid: str = "1365779998558564", /, **fields: object) -> dict[str, object]:
    """A v1 trade object; `fields` override or (with None) remove keys, `tid` too."""
    trade: dict[str, object] = {"date": 1365779998, "price": "72.98274", "amount": "0.0139", "tid": tid}
    trade.update(fields)
    return {k: v for k, v in trade.items() if v is not None}


def _refusal(path: Path, currency: str = "USD") -> str:
    """The message of the ReplayFileError, checked to be one line that starts with the file."""
    with pytest.raises(ReplayFileError) as info:
        load_replay(path, currency=currency)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    assert "Traceback" not in message
    return message


def _bitcoincharts_rows() -> list[list[str]]:
    with gzip.open(shared_path(BITCOINCHARTS), "rt", newline="") as f:
        return list(csv.reader(f))


# --- the real bitcoincharts file ---------------------------------------------------------------


def test_the_bitcoincharts_file_loads_every_trade_with_sequential_tids() -> None:
    rows = _bitcoincharts_rows()
    trades = load_replay(shared_path(BITCOINCHARTS))

    assert len(rows) == 100_000
    assert len(trades) == len(rows)
    assert [t.tid for t in trades] == list(range(1, len(rows) + 1))
    assert trades[0] == Trade(1, 1279408157 * US, 4951, 2_000_000_000, "USD", "", True, "limit")
    assert trades[-1].tid == 100_000


def test_every_bitcoincharts_price_amount_and_time_is_the_exact_scaled_decimal() -> None:
    rows = _bitcoincharts_rows()
    trades = load_replay(shared_path(BITCOINCHARTS))

    # Tids follow file order, so trade i is row i.
    assert all(t.price_int == Decimal(r[1]) * 10**5 for t, r in zip(trades, rows, strict=True))
    assert all(t.amount_int == Decimal(r[2]) * 10**8 for t, r in zip(trades, rows, strict=True))
    assert all(t.time_us == int(r[0]) * US for t, r in zip(trades, rows, strict=True))
    assert {t.currency for t in trades} == {"USD"}
    assert {t.trade_type for t in trades} == {""}


def test_the_zero_amount_trades_of_2010_are_kept_as_zero_amount_trades() -> None:
    zero_lines = [i for i, r in enumerate(_bitcoincharts_rows(), 1) if Decimal(r[2]) == 0]
    trades = load_replay(shared_path(BITCOINCHARTS))

    assert zero_lines == [208, 221, 233]
    assert [t.tid for t in trades if t.amount_int == 0] == zero_lines


def test_the_2011_06_07_capture_gives_11214_trades_with_tids_exactly_118393_to_129606() -> None:
    path = shared_path(SFERIK_V0)
    raw = {int(t["tid"]): t for t in json.loads(path.read_text())}
    trades = load_replay(path)

    assert len(trades) == 11_214
    assert [t.tid for t in trades] == list(range(118_393, 129_607))
    for t in trades:
        source = raw[t.tid]
        assert t.time_us == source["date"] * US
        assert t.price_int == Decimal(repr(source["price"])) * 10**5
        assert t.amount_int == Decimal(repr(source["amount"])) * 10**8
        assert (t.trade_type, t.primary, t.properties) == ("", True, "limit")


def test_the_2011_06_07_capture_keeps_its_tid_order_where_it_disagrees_with_time() -> None:
    path = shared_path(SFERIK_V0)
    dates = [t["date"] for t in sorted(json.loads(path.read_text()), key=lambda t: int(t["tid"]))]
    expected_backsteps = sum(1 for a, b in pairwise(dates) if b < a)
    times = [t.time_us for t in load_replay(path)]

    assert expected_backsteps > 0
    assert sum(1 for a, b in pairwise(times) if b < a) == expected_backsteps


def test_the_2011_06_27_capture_gives_6560_trades_whose_microsecond_tids_match_their_dates() -> None:
    path = shared_path(SFERIK_RELAUNCH)
    raw = {int(t["tid"]): t for t in json.loads(path.read_text())}
    trades = load_replay(path)

    assert len(trades) == 6_560
    assert all(t.tid >= RELAUNCH_TID for t in trades)
    assert all(t.tid // US == raw[t.tid]["date"] for t in trades)
    assert all(t.time_us == t.tid for t in trades)
    assert all(t.price_int == int(raw[t.tid]["price_int"]) for t in trades)
    assert all(t.amount_int == int(raw[t.tid]["amount_int"]) for t in trades)


def test_the_2013_envelope_keeps_its_one_non_primary_mixed_currency_copy() -> None:
    trades = load_replay(shared_path(SFERIK_V1))

    assert len(trades) == 4
    tid = 1365779997854917
    assert [t for t in trades if not t.primary] == [
        Trade(tid, tid, 7298274, 10650000, "USD", "bid", False, "limit,mixed_currency"),
    ]
    assert [t.properties for t in trades if t.primary] == ["market", "limit", "market"]


def test_the_xchange_v1_capture_loads_primary_flags_and_properties() -> None:
    path = shared_path(XCHANGE_V1)
    raw = json.loads(path.read_text())
    trades = load_replay(path)

    assert len(trades) == len(raw) == 30
    assert Counter(t.primary for t in trades) == Counter(r["primary"] == "Y" for r in raw)
    assert Counter(t.properties for t in trades) == Counter(r["properties"] for r in raw)
    assert Counter(t.trade_type for t in trades) == Counter(r["trade_type"] for r in raw)


def test_the_xchange_v0_capture_without_primary_loads_every_trade_as_primary() -> None:
    path = shared_path(XCHANGE_V0)
    raw = json.loads(path.read_text())
    trades = load_replay(path)

    assert len(trades) == len(raw) == 609
    assert all(t.primary and t.properties == "limit" for t in trades)
    assert sorted(t.tid for t in trades) == sorted(int(r["tid"]) for r in raw)


def test_the_pyalgotrade_csv_gives_2331_bid_and_ask_trades_with_strictly_increasing_tids() -> None:
    path = shared_path(PYALGOTRADE)
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    trades = load_replay(path)

    assert len(trades) == len(rows) == 2_331
    assert [t.tid for t in trades] == [int(r["id"]) for r in rows]
    assert all(a.tid < b.tid for a, b in pairwise(trades))
    assert Counter(t.trade_type for t in trades) == Counter(r["type"] for r in rows)
    assert set(Counter(t.trade_type for t in trades)) == {"bid", "ask"}
    assert all(t.price_int == Decimal(r["price"]) * 10**5 for t, r in zip(trades, rows, strict=True))
    assert all(t.amount_int == Decimal(r["amount"]) * 10**8 for t, r in zip(trades, rows, strict=True))
    assert all(t.time_us == t.tid for t in trades)


# --- format detection --------------------------------------------------------------------------


def test_a_gzipped_file_named_csv_loads_by_its_content(tmp_path: Path) -> None:
    path = _write(tmp_path, "trades.csv", gzip.compress(b"1279408157,0.04951,20\n"))
    assert [(t.tid, t.price_int) for t in load_replay(path)] == [(1, 4951)]


def test_a_plain_file_named_gz_loads_by_its_content(tmp_path: Path) -> None:
    path = _write(tmp_path, "trades.csv.gz", "1279408157,0.04951,20\n")
    assert [(t.tid, t.amount_int) for t in load_replay(path)] == [(1, 2_000_000_000)]


def test_a_gzipped_json_capture_loads(tmp_path: Path) -> None:
    path = _write(tmp_path, "trades.json.gz", gzip.compress(json.dumps([_trade()]).encode()))
    assert [t.tid for t in load_replay(path)] == [1365779998558564]


def test_a_header_line_is_skipped_but_counted_in_line_numbers(tmp_path: Path) -> None:
    header = "Time,Price,Volume\n1279408157,0.04951,20\n"
    good = _write(tmp_path, "good.csv", header + "1279424586,0.05941,50.01\n")
    bad = _write(tmp_path, "bad.csv", header + "1279424586,x,50.01\n")

    assert [t.tid for t in load_replay(good)] == [1, 2]
    assert _refusal(bad).startswith(f"{bad}:3: price 'x'")


def test_crlf_line_ends_and_blank_lines_are_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, "trades.csv", "1279408157,0.04951,20\r\n\r\n1279424586,0.05941,50.01\r\n")
    assert [t.price_int for t in load_replay(path)] == [4951, 5941]


def test_a_v2_data_envelope_loads(tmp_path: Path) -> None:
    path = _write_json(tmp_path, {"result": "success", "data": [_trade()]})
    assert [t.tid for t in load_replay(path)] == [1365779998558564]


# --- tids and times ----------------------------------------------------------------------------


def test_a_csv_crossing_the_relaunch_gets_small_tids_before_and_microsecond_tids_after(
    tmp_path: Path,
) -> None:
    start = RELAUNCH_US // US
    rows = [BEFORE_RELAUNCH, BEFORE_RELAUNCH, start, start, start + 1]
    path = _write(tmp_path, "trades.csv", "".join(f"{t},17.5,1\n" for t in rows))
    trades = load_replay(path)

    assert [t.tid for t in trades] == [1, 2, RELAUNCH_US, RELAUNCH_US + 1, RELAUNCH_US + US]
    assert [t.time_us for t in trades] == [BEFORE_RELAUNCH * US] * 2 + [t.tid for t in trades[2:]]
    assert all(t.tid // US == t.date for t in trades[2:])


def test_microsecond_tids_count_rows_within_their_second_even_out_of_order(tmp_path: Path) -> None:
    s = AFTER_RELAUNCH
    path = _write(tmp_path, "trades.csv", f"{s},17.5,1\n{s + 1},17.6,1\n{s},17.7,1\n")
    trades = load_replay(path)

    assert [(t.tid, t.price_int) for t in trades] == [
        (s * US, 1_750_000),
        (s * US + 1, 1_770_000),
        ((s + 1) * US, 1_760_000),
    ]


def test_a_microsecond_tid_that_disagrees_with_its_date_takes_its_time_from_the_date(tmp_path: Path) -> None:
    agreeing = _trade("1365779998558564", date=1365779998)
    disagreeing = _trade("1365779999000123", date=1365780005)
    small = _trade("118393", date=1307353946)
    trades = load_replay(_write_json(tmp_path, [agreeing, disagreeing, small]))

    assert [(t.tid, t.time_us) for t in trades] == [
        (118393, 1307353946 * US),
        (1365779998558564, 1365779998558564),
        (1365779999000123, 1365780005 * US),
    ]


# --- money -------------------------------------------------------------------------------------


def test_json_floats_convert_through_their_shortest_decimal(tmp_path: Path) -> None:
    trades = [
        _trade("1", price=0.1, amount=0.3),
        _trade("2", price=17, amount=1e-05),
        _trade("3", price=26.6099),
    ]
    loaded = load_replay(_write_json(tmp_path, trades))

    assert [(t.price_int, t.amount_int) for t in loaded] == [
        (10_000, 30_000_000),
        (1_700_000, 1_000),
        (2_660_990, 1_390_000),
    ]


def test_the_int_fields_win_over_the_decimal_ones(tmp_path: Path) -> None:
    path = _write_json(tmp_path, [_trade(price="1.5", price_int="150001", amount="2", amount_int=199999999)])
    assert [(t.price_int, t.amount_int) for t in load_replay(path)] == [(150_001, 199_999_999)]


def test_a_jpy_trade_is_scaled_by_a_thousand(tmp_path: Path) -> None:
    path = _write_json(tmp_path, [_trade(price="1234.567", price_currency="JPY")])
    assert [(t.price_int, t.currency) for t in load_replay(path)] == [(1_234_567, "JPY")]


def test_the_currency_argument_prices_csv_rows_and_json_without_price_currency(tmp_path: Path) -> None:
    csv_path = _write(tmp_path, "trades.csv", "1279408157,12.345,1\n")
    json_path = _write_json(tmp_path, [_trade(price="12.345")])

    assert [(t.price_int, t.currency) for t in load_replay(csv_path, currency="SEK")] == [(12_345, "SEK")]
    assert [(t.price_int, t.currency) for t in load_replay(json_path, currency="EUR")] == [(1_234_500, "EUR")]


def test_missing_optional_json_fields_take_their_defaults(tmp_path: Path) -> None:
    (trade,) = load_replay(_write_json(tmp_path, [_trade()]))
    assert (trade.currency, trade.trade_type, trade.primary, trade.properties) == ("USD", "", True, "limit")


def test_decimals_beyond_28_digits_are_refused_not_rounded(tmp_path: Path) -> None:
    path = _write_json(tmp_path, [_trade(price="1.00000000000000000000000000001")])
    assert "has more than 5 decimals for USD" in _refusal(path)


# --- refusals: the file as a whole -------------------------------------------------------------


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "absent.csv"
    assert _refusal(path) == f"{path}: no such file"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert "is a directory" in _refusal(tmp_path)


@pytest.mark.parametrize("content", ["", "\n \n", "\ufeff"], ids=["empty", "blank lines", "bom only"])
def test_an_empty_file_is_refused(tmp_path: Path, content: str) -> None:
    path = _write(tmp_path, "trades.csv", content)
    assert _refusal(path) == f"{path}: empty file, no trades"


def test_a_header_without_rows_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "trades.csv", "id,price,amount,type\n")
    assert _refusal(path) == f"{path}: no trades after the header on line 1"


@pytest.mark.parametrize("document", [[], {"result": "success", "return": []}], ids=["array", "envelope"])
def test_json_with_no_trades_is_refused(tmp_path: Path, document: object) -> None:
    path = _write_json(tmp_path, document)
    assert "no trades" in _refusal(path)


def test_an_unknown_or_btc_currency_argument_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "trades.csv", "1279408157,0.04951,20\n")
    assert "currency 'XYZ' is not a Mt.Gox fiat currency" in _refusal(path, currency="XYZ")
    assert "currency 'BTC' is not a Mt.Gox fiat currency" in _refusal(path, currency="BTC")


def test_a_corrupt_gzip_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "trades.csv", b"\x1f\x8b" + b"not really deflate data" * 3)
    assert _refusal(path).startswith(f"{path}: corrupt gzip data:")


def test_a_truncated_gzip_is_refused(tmp_path: Path) -> None:
    whole = gzip.compress(b"1279408157,0.04951,20\n" * 1000)
    path = _write(tmp_path, "trades.csv.gz", whole[: len(whole) // 2])
    assert _refusal(path).startswith(f"{path}: corrupt gzip data:")


def test_a_csv_that_is_not_utf8_is_refused_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "trades.csv", b"1279408157,0.04951,20\n1279424586,0.0\xff,50\n")
    assert _refusal(path) == f"{path}:2: not UTF-8 text (byte 0xff)"


def test_an_unrecognised_header_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "trades.csv", "tid,date,price,amount,side\n1,2,3,4,bid\n")
    assert _refusal(path).startswith(f"{path}:1: unrecognised header")


# --- refusals: CSV rows ------------------------------------------------------------------------


@pytest.mark.parametrize("row", ["1279424586,0.05941", "1279424586,0.05941,50,bid", "1279424586"])
def test_a_row_with_the_wrong_number_of_fields_is_refused_at_its_line(tmp_path: Path, row: str) -> None:
    path = _write(tmp_path, "trades.csv", f"1279408157,0.04951,20\n{row}\n")
    assert _refusal(path).startswith(f"{path}:2: expected 3 fields, got ")


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("12794x8157,0.04951,20", "unix_time '12794x8157' is not a non-negative integer"),
        ("-1279408157,0.04951,20", "unix_time '-1279408157' is not a non-negative integer"),
        ("1279408157,abc,20", "price 'abc' is not a decimal number"),
        ("1279408157,NaN,20", "price 'NaN' is not a decimal number"),
        ("1279408157,1_000,20", "price '1_000' is not a decimal number"),
        ("1279408157,0.04951,", "amount '' is not a decimal number"),
        ("1279408157,0.04951,lots", "amount 'lots' is not a decimal number"),
    ],
)
def test_a_non_numeric_field_is_refused_at_its_line(tmp_path: Path, row: str, problem: str) -> None:
    path = _write(tmp_path, "trades.csv", f"1279408000,0.04951,20\n\n{row}\n")
    assert _refusal(path) == f"{path}:3: {problem}"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("1279408157,0,20", "price '0' is not positive"),
        ("1279408157,0.000000,20", "price '0.000000' is not positive"),
        ("1279408157,-0.05,20", "price '-0.05' is not positive"),
        ("1279408157,0.04951,-20", "amount '-20' is negative"),
    ],
)
def test_a_non_positive_price_or_negative_amount_is_refused_at_its_line(
    tmp_path: Path, row: str, problem: str
) -> None:
    path = _write(tmp_path, "trades.csv", f"1279408000,0.04951,20\n{row}\n")
    assert _refusal(path) == f"{path}:2: {problem}"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("1279408157,0.049511,20", "price '0.049511' has more than 5 decimals for USD"),
        ("1279408157,0.049510000001,20", "price '0.049510000001' has more than 5 decimals for USD"),
        ("1279408157,0.04951,0.000000001", "amount '0.000000001' has more than 8 decimals for BTC"),
        ("1279408157,1e-6,20", "price '1e-6' has more than 5 decimals for USD"),
    ],
)
def test_too_many_decimals_are_refused_at_their_line_not_rounded(
    tmp_path: Path, row: str, problem: str
) -> None:
    path = _write(tmp_path, "trades.csv", f"1279408000,0.04951,20\n{row}\n")
    assert _refusal(path) == f"{path}:2: {problem}"


def test_a_jpy_price_with_four_decimals_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "trades.csv", "1279408157,1234.5678,1\n")
    assert _refusal(path, currency="JPY") == f"{path}:1: price '1234.5678' has more than 3 decimals for JPY"


def test_a_pyalgotrade_row_with_a_bad_type_is_refused_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "trades.csv", "id,price,amount,type\n1356998659486096,13.51001,36.87430786,buy\n")
    assert _refusal(path) == f"{path}:2: type 'buy' is neither bid nor ask"


def test_a_pyalgotrade_id_that_is_no_microsecond_tid_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "trades.csv", "id,price,amount,type\n118393,17.6985,1.01,ask\n")
    assert _refusal(path).startswith(f"{path}:2: id 118393 is not a microsecond tid")


def test_duplicate_pyalgotrade_ids_are_refused_naming_both_lines(tmp_path: Path) -> None:
    rows = ["1356998659486096,13.5,1,ask", "1356998738639088,13.6,1,bid", "1356998659486096,13.5,2,bid"]
    path = _write(tmp_path, "trades.csv", "id,price,amount,type\n" + "\n".join(rows) + "\n")
    assert _refusal(path) == f"{path}:4: duplicate tid 1356998659486096, also on line 2"


# --- refusals: JSON ----------------------------------------------------------------------------


def test_invalid_json_is_refused_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "trades.json", '[\n{"tid": "1",\n "date": 12,, "price": "1"}\n]\n')
    assert _refusal(path).startswith(f"{path}:3: invalid JSON:")


def test_truncated_json_is_refused_at_its_line(tmp_path: Path) -> None:
    text = json.dumps([_trade()], indent=1)
    path = _write(tmp_path, "trades.json", text[:-10])
    assert _refusal(path).startswith(f"{path}:{text[:-10].count(chr(10)) + 1}: invalid JSON:")


def test_an_error_envelope_is_refused_saying_it_is_an_error(tmp_path: Path) -> None:
    envelope = {
        "result": "error",
        "error": "Identification required",
        "token": "login_error_missing_rest_key",
    }
    path = _write_json(tmp_path, envelope)
    message = _refusal(path)
    assert message.startswith(f"{path}: an error response, not trades: 'Identification required'")
    assert "login_error_missing_rest_key" in message


def test_a_v0_error_object_is_refused_saying_it_is_an_error(tmp_path: Path) -> None:
    path = _write_json(tmp_path, {"error": "Not logged in."})
    assert _refusal(path) == f"{path}: an error response, not trades: 'Not logged in.'"


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            {"ticker": {"last": 26.5}},
            "a JSON object, neither a trade array nor a success envelope (keys: ticker)",
        ),
        (
            {"result": "success", "return": {"last": 1}},
            "the success envelope holds an object, not a trade array",
        ),
        ({"result": "success"}, "the success envelope holds null, not a trade array"),
    ],
)
def test_json_that_is_neither_a_trade_array_nor_a_success_envelope_is_refused(
    tmp_path: Path, document: object, problem: str
) -> None:
    path = _write_json(tmp_path, document)
    assert _refusal(path) == f"{path}: {problem}"


@pytest.mark.parametrize("field", ["tid", "date", "price", "amount"])
def test_a_json_trade_missing_a_required_field_is_refused_by_its_index(tmp_path: Path, field: str) -> None:
    path = _write_json(tmp_path, [_trade("1"), _trade("2", **{field: None})])
    assert _refusal(path).endswith(f": missing field {field!r}")
    assert f"{path}: trade #2" in _refusal(path)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"price": "-1"}, "price '-1' is not positive"),
        ({"price_int": "0"}, "price '0' is not positive"),
        ({"amount": "-0.5"}, "amount '-0.5' is negative"),
        ({"price": "72.982741"}, "price '72.982741' has more than 5 decimals for USD"),
        ({"amount": 0.123456789}, "amount '0.123456789' has more than 8 decimals for BTC"),
        ({"price": True}, "price True is not a number"),
        ({"price_int": "7.5"}, "price_int '7.5' is not a non-negative integer"),
        ({"date": "yesterday"}, "date 'yesterday' is not a non-negative integer"),
        ({"price_currency": "BTC"}, "price_currency 'BTC' is not a Mt.Gox fiat currency"),
        ({"item": "LTC"}, "item 'LTC' is not BTC"),
        ({"trade_type": "buy"}, "trade_type 'buy' is not bid, ask or empty"),
        ({"primary": True}, "primary True is neither Y nor N"),
    ],
)
def test_a_bad_json_trade_is_refused_by_its_index_and_tid(
    tmp_path: Path, fields: dict[str, object], problem: str
) -> None:
    path = _write_json(tmp_path, [_trade("1"), _trade("2"), _trade("3", **fields)])
    assert _refusal(path) == f"{path}: trade #3 (tid 3): {problem}"


def test_a_json_tid_that_is_not_an_integer_is_refused(tmp_path: Path) -> None:
    path = _write_json(tmp_path, [_trade("12a")])
    assert _refusal(path) == f"{path}: trade #1 (tid '12a'): tid '12a' is not a non-negative integer"


def test_a_json_element_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    path = _write_json(tmp_path, [_trade("1"), [1, 2, 3]])
    assert _refusal(path) == f"{path}: trade #2: is an array, not a trade object"


def test_duplicate_json_tids_are_refused_naming_both_trades(tmp_path: Path) -> None:
    path = _write_json(tmp_path, [_trade("5"), _trade("9"), _trade("5")])
    assert _refusal(path) == f"{path}: trade #3 (tid 5): duplicate tid 5, also on trade #1"


def test_a_long_bad_value_is_cut_so_the_message_stays_short(tmp_path: Path) -> None:
    path = _write(tmp_path, "trades.csv", "1279408157," + "9" * 5000 + "x,1\n")
    assert len(_refusal(path)) < len(str(path)) + 100


def test_a_bad_value_holding_a_newline_still_gives_a_one_line_message(tmp_path: Path) -> None:
    path = _write_json(tmp_path, [_trade("1", price="1\n2")])
    assert _refusal(path) == f"{path}: trade #1 (tid 1): price '1\\n2' is not a decimal number"
