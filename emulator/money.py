"""Currencies, integer scaling and Mt.Gox money objects. Pure.

Mt.Gox kept every amount as an integer (`value_int`) scaled per currency: BTC by 1e8, JPY and
SEK by 1e3, every other fiat by 1e5 (reference section 3). A money object is five strings:
`value` (zero-padded to the currency's decimals), `value_int`, `display`, `display_short` and
`currency`; the number and the unit are separated by U+00A0 as in the captures.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

NBSP = "\u00a0"


@dataclass(frozen=True, slots=True)
class Currency:
    code: str
    decimals: int  # value = value_int / 10**decimals
    symbol: str
    prefix: bool  # "$1.00" (prefix) or "1.00 €" (suffix, NBSP-separated)
    display_decimals: int = 2
    name: str = ""

    @property
    def scale(self) -> int:
        return 10**self.decimals


# Symbols seen in captures: $, €, Kr (SEK), CA$, BTC. The others follow the same convention and
# are the emulator's best guess; no capture shows them.
_TABLE = [
    Currency("BTC", 8, "BTC", False, 2, "Bitcoin"),
    Currency("USD", 5, "$", True, 2, "Dollar"),
    Currency("AUD", 5, "AU$", True, 2, "Australian Dollar"),
    Currency("CAD", 5, "CA$", True, 2, "Canadian Dollar"),
    Currency("CHF", 5, "CHF", False, 2, "Swiss Franc"),
    Currency("CNY", 5, "CN¥", True, 2, "Yuan Renminbi"),
    Currency("DKK", 5, "kr", False, 2, "Danish Krone"),
    Currency("EUR", 5, "€", False, 2, "Euro"),
    Currency("GBP", 5, "£", True, 2, "Pound Sterling"),
    Currency("HKD", 5, "HK$", True, 2, "Hong Kong Dollar"),
    Currency("JPY", 3, "¥", True, 0, "Yen"),
    Currency("NZD", 5, "NZ$", True, 2, "New Zealand Dollar"),
    Currency("PLN", 5, "zł", False, 2, "Zloty"),
    Currency("RUB", 5, "RUB", False, 2, "Russian Ruble"),
    Currency("SEK", 3, "Kr", False, 0, "Swedish Krona"),
    Currency("SGD", 5, "S$", True, 2, "Singapore Dollar"),
    Currency("THB", 5, "฿", True, 2, "Baht"),
    Currency("NOK", 5, "Kr", False, 2, "Norwegian Krone"),
    Currency("CZK", 5, "Kč", False, 2, "Czech Koruna"),
]
CURRENCIES: dict[str, Currency] = {c.code: c for c in _TABLE}
FIAT: tuple[str, ...] = tuple(c.code for c in _TABLE if c.code != "BTC")
BTC = CURRENCIES["BTC"]


def currency(code: str) -> Currency:
    """The currency for an ISO code; KeyError for one Mt.Gox did not list."""
    return CURRENCIES[code]


def pair_currency(pair: str) -> str | None:
    """`BTCUSD` -> `USD`; None unless the pair is BTC against a listed fiat."""
    if len(pair) == 6 and pair.startswith("BTC") and pair[3:] in FIAT:
        return pair[3:]
    return None


def value_str(value_int: int, cur: Currency) -> str:
    """The exact decimal string of a scaled integer, zero-padded: 9498000 USD -> '94.98000'."""
    sign = "-" if value_int < 0 else ""
    whole, frac = divmod(abs(value_int), cur.scale)
    if cur.decimals == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:0{cur.decimals}d}"


def to_decimal(value_int: int, cur: Currency) -> Decimal:
    return Decimal(value_int).scaleb(-cur.decimals)


def to_number(value_int: int, cur: Currency) -> int | float:
    """A JSON number the way Mt.Gox printed depth prices: 114 when integral, else 114.13."""
    whole, frac = divmod(value_int, cur.scale)
    if frac == 0:
        return whole
    # int / int is correctly rounded, so the float prints as the shortest exact decimal.
    return value_int / cur.scale


def format_display(value_int: int, cur: Currency, decimals: int) -> str:
    """'$1,234.56', '23.00000\u00a0€', '49,524.15\u00a0BTC' with `decimals` digits."""
    q = to_decimal(value_int, cur).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    number = f"{q:,.{decimals}f}"
    if cur.prefix:
        if number.startswith("-"):
            return f"-{cur.symbol}{number[1:]}"
        return f"{cur.symbol}{number}"
    return f"{number}{NBSP}{cur.symbol}"


def money(value_int: int, code: str, *, short_display: bool = False) -> dict[str, str]:
    """A money object. `short_display` makes `display` the short form too, as tickers had it."""
    cur = CURRENCIES[code]
    short = format_display(value_int, cur, cur.display_decimals)
    return {
        "value": value_str(value_int, cur),
        "value_int": str(value_int),
        "display": short if short_display else format_display(value_int, cur, cur.decimals),
        "display_short": short,
        "currency": code,
    }
