"""Money objects: integer scaling per currency, exact decimal strings, display forms (reference section 3)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.money import CURRENCIES, FIAT, currency, money, pair_currency, to_number, value_str

NBSP = "\u00a0"
REFERENCE_FIAT = [
    "USD",
    "AUD",
    "CAD",
    "CHF",
    "CNY",
    "DKK",
    "EUR",
    "GBP",
    "HKD",
    "JPY",
    "NZD",
    "PLN",
    "RUB",
    "SEK",
    "SGD",
    "THB",
    "NOK",
    "CZK",
]


# --- scaling ------------------------------------------------------------------------------------


def test_btc_is_scaled_by_1e8_jpy_and_sek_by_1e3_and_every_other_fiat_by_1e5() -> None:
    expected = {c: 10**5 for c in REFERENCE_FIAT} | {"BTC": 10**8, "JPY": 10**3, "SEK": 10**3}
    assert {code: CURRENCIES[code].scale for code in expected} == expected
    assert set(CURRENCIES) == set(expected)


def test_the_fiat_list_is_every_reference_currency_and_not_btc() -> None:
    assert sorted(FIAT) == sorted(REFERENCE_FIAT)


def test_an_unlisted_currency_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        currency("INR")


# --- value_str ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value_int", "code", "expected"),
    [
        (9498000, "USD", "94.98000"),
        (65, "BTC", "0.00000065"),
        (0, "USD", "0.00000"),
        (0, "BTC", "0.00000000"),
        (1, "EUR", "0.00001"),
        (2245520, "SEK", "2245.520"),
        (7, "JPY", "0.007"),
        (100_000_000, "BTC", "1.00000000"),
        (-1, "USD", "-0.00001"),
        (-123456789, "BTC", "-1.23456789"),
        (-2245520, "SEK", "-2245.520"),
    ],
)
def test_value_str_is_the_exact_decimal_zero_padded_to_the_currency_decimals(
    value_int: int, code: str, expected: str
) -> None:
    assert value_str(value_int, CURRENCIES[code]) == expected


@given(value_int=st.integers(min_value=-(10**20), max_value=10**20), code=st.sampled_from(sorted(CURRENCIES)))
def test_value_str_round_trips_through_decimal_for_any_integer_and_every_currency(value_int: int, code: str) -> None:
    cur = CURRENCIES[code]
    text = value_str(value_int, cur)
    assert Decimal(text) * cur.scale == value_int
    assert len(text.split(".")[1]) == cur.decimals
    assert text.startswith("-") == (value_int < 0)


# --- money() ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value_int", "code", "expected"),
    [
        (
            2245520,
            "SEK",
            {
                "value": "2245.520",
                "value_int": "2245520",
                "display": f"2,245.520{NBSP}Kr",
                "display_short": f"2,246{NBSP}Kr",
                "currency": "SEK",
            },
        ),
        (
            4952415110020,
            "BTC",
            {
                "value": "49524.15110020",
                "value_int": "4952415110020",
                "display": f"49,524.15110020{NBSP}BTC",
                "display_short": f"49,524.15{NBSP}BTC",
                "currency": "BTC",
            },
        ),
        (
            1000000,
            "BTC",
            {
                "value": "0.01000000",
                "value_int": "1000000",
                "display": f"0.01000000{NBSP}BTC",
                "display_short": f"0.01{NBSP}BTC",
                "currency": "BTC",
            },
        ),
        (
            2300000,
            "EUR",
            {
                "value": "23.00000",
                "value_int": "2300000",
                "display": f"23.00000{NBSP}€",
                "display_short": f"23.00{NBSP}€",
                "currency": "EUR",
            },
        ),
        (
            100000000,
            "USD",
            {
                "value": "1000.00000",
                "value_int": "100000000",
                "display": "$1,000.00000",
                "display_short": "$1,000.00",
                "currency": "USD",
            },
        ),
        (
            9498000,
            "USD",
            {
                "value": "94.98000",
                "value_int": "9498000",
                "display": "$94.98000",
                "display_short": "$94.98",
                "currency": "USD",
            },
        ),
        (
            12345678,
            "JPY",
            {
                "value": "12345.678",
                "value_int": "12345678",
                "display": "¥12,345.678",
                "display_short": "¥12,346",
                "currency": "JPY",
            },
        ),
        (
            85520000,
            "CAD",
            {
                "value": "855.20000",
                "value_int": "85520000",
                "display": "CA$855.20000",
                "display_short": "CA$855.20",
                "currency": "CAD",
            },
        ),
    ],
)
def test_money_objects_have_the_captured_five_strings(value_int: int, code: str, expected: dict[str, str]) -> None:
    got = money(value_int, code)
    assert got == expected
    assert list(got) == ["value", "value_int", "display", "display_short", "currency"]


def test_display_short_rounds_half_up_to_the_display_decimals() -> None:
    assert money(1234500, "USD")["display_short"] == "$12.35"  # 12.345 -> 12.35, not banker's 12.34
    assert money(1234499, "USD")["display_short"] == "$12.34"
    assert money(500, "JPY")["display_short"] == "¥1"  # 0.5 yen -> 1
    assert money(2500, "SEK")["display_short"] == f"3{NBSP}Kr"


def test_negative_money_keeps_the_sign_in_front_of_a_prefix_symbol() -> None:
    assert money(-150000, "USD")["display"] == "-$1.50000"
    assert money(-150000, "USD")["display_short"] == "-$1.50"
    assert money(-150000, "EUR")["display_short"] == f"-1.50{NBSP}€"
    assert money(-150000, "USD")["value"] == "-1.50000"


def test_short_display_makes_display_the_short_form_as_tickers_had_it() -> None:
    got = money(9498000, "USD", short_display=True)
    assert got["display"] == "$94.98"
    assert got["display_short"] == "$94.98"
    assert got["value"] == "94.98000"


def test_every_money_member_is_a_string() -> None:
    for code in CURRENCIES:
        assert all(isinstance(v, str) for v in money(123456789, code).values())


# --- to_number ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value_int", "code", "expected"),
    [
        (11400000, "USD", 114),
        (2000000000, "BTC", 20),
        (0, "USD", 0),
        (98000, "JPY", 98),
        (-300000, "EUR", -3),
    ],
)
def test_to_number_is_an_int_for_integral_values(value_int: int, code: str, expected: int) -> None:
    got = to_number(value_int, CURRENCIES[code])
    assert type(got) is int
    assert got == expected


@pytest.mark.parametrize(
    ("value_int", "code", "expected_repr"),
    [
        (11413000, "USD", "114.13"),
        (1, "USD", "1e-05"),
        (10650000, "BTC", "0.1065"),
        (1, "BTC", "1e-08"),
        (12345678, "JPY", "12345.678"),
        (-150000, "USD", "-1.5"),
        (7298274, "USD", "72.98274"),
    ],
)
def test_to_number_is_the_shortest_float_for_fractional_values(value_int: int, code: str, expected_repr: str) -> None:
    got = to_number(value_int, CURRENCIES[code])
    assert type(got) is float
    assert repr(got) == expected_repr


@given(value_int=st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1), code=st.sampled_from(sorted(CURRENCIES)))
def test_to_number_prints_as_the_exact_decimal_for_up_to_fifteen_digits(value_int: int, code: str) -> None:
    cur = CURRENCIES[code]
    got = to_number(value_int, cur)
    assert Decimal(repr(got)) == Decimal(value_int) / cur.scale
    assert isinstance(got, int) == (value_int % cur.scale == 0)


# --- pair_currency ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", REFERENCE_FIAT)
def test_every_reference_fiat_forms_a_btc_pair(code: str) -> None:
    assert pair_currency("BTC" + code) == code


@pytest.mark.parametrize("pair", ["BTCBTC", "BTCXYZ", "LTCUSD", "USDBTC", "BTCUSDX", "BTCUS", "btcusd", "BTCINR", ""])
def test_anything_but_btc_against_a_listed_fiat_is_no_pair(pair: str) -> None:
    assert pair_currency(pair) is None
