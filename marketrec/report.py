"""The demo's report: what the warehouse holds, read-only into pandas, as text and as PNG charts.

    read_summary(warehouse)          rows per table, hourly bars, balances, open gaps
    write_charts(summary, out_dir)   candles.png (hourly bars with volume), balances.png (per currency)
    format_report(summary, checks)   the lines the demo prints

Charts are drawn on matplotlib `Figure`s (Agg, no screen, no global backend switch); candles are
bars and lines, so no plotting package beyond matplotlib is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib import dates as mdates
from matplotlib.figure import Figure

from collector.exchanges import REGISTRY
from pipelines.build import connect
from pipelines.checks import CheckResult

from .progress import cursor_when

# Rows per table are reported for these, in this order (those a warehouse has).
TABLES = ("trades", "ticker", "depth_snapshots", "depth_levels", "book_top", "ohlc", "account_ledger",
          "account_trades", "balances", "open_orders", "coverage", "gaps", "quarantine")
CHART_BARS = 48  # hourly candles drawn: the last two days
REPORT_BARS = 6  # hourly bars printed
DPI = 100
CANDLES_SIZE = (12.0, 7.0)  # inches: 1200 x 700 pixels
BALANCES_SIZE = (12.0, 8.0)  # 1200 x 800
UP, DOWN = "#26a269", "#c01c28"


@dataclass(frozen=True)
class Summary:
    warehouse: Path
    exchange: str
    market: str
    rows: dict[str, int]
    bars: pd.DataFrame  # the market's 1h bars, oldest first: bucket, open, high, low, close, volume, vwap, trades
    balances: pd.DataFrame  # every balance: account, currency, ts, balance, source
    latest: pd.DataFrame  # the latest balance per (account, currency): account, currency, ts, balance, source
    open_gaps: pd.DataFrame  # market, after_tid, through_tid, reason, opened_at


def read_summary(warehouse: Path, market: str = "BTCUSD", *, exchange: str = "mtgox", bars: int = CHART_BARS
                 ) -> Summary:
    """What the report shows, read from the warehouse without locking out other readers."""
    con = connect(warehouse, read_only=True)
    try:
        present = {r[0] for r in con.execute(  # tables and views: a mart may be either
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
        rows = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in TABLES if t in present}
        hourly = con.execute(
            """SELECT bucket, CAST(open AS DOUBLE) AS open, CAST(high AS DOUBLE) AS high,
                   CAST(low AS DOUBLE) AS low, CAST(close AS DOUBLE) AS close, CAST(volume AS DOUBLE) AS volume,
                   CAST(vwap AS DOUBLE) AS vwap, trades
               FROM (SELECT * FROM ohlc WHERE exchange = ? AND market = ? AND "interval" = '1h'
                     ORDER BY bucket DESC LIMIT ?)
               ORDER BY bucket""", [exchange, market, bars]).df()
        # Exact balances as text for the report, as doubles for the chart.
        balances = con.execute(
            """SELECT account, currency, ts, CAST(balance AS DOUBLE) AS balance, source FROM balances
               WHERE exchange = ? ORDER BY account, currency, ts, idx NULLS LAST""", [exchange]).df()
        latest = con.execute(
            """SELECT account, currency, max(ts) AS ts, CAST(arg_max(balance, (ts, coalesce(idx, 0))) AS VARCHAR)
                   AS balance, arg_max(source, (ts, coalesce(idx, 0))) AS source
               FROM balances WHERE exchange = ? GROUP BY account, currency ORDER BY account, currency""",
            [exchange]).df()
        gaps = con.execute(
            """SELECT market, after_tid, through_tid, reason, opened_at FROM gaps WHERE open AND exchange = ?
               ORDER BY market, after_tid""", [exchange]).df() if "gaps" in present else pd.DataFrame()
    finally:
        con.close()
    return Summary(Path(warehouse), exchange, market, rows, hourly, balances, latest, gaps)


# -- charts ----------------------------------------------------------------------------------------


def _utc_naive(column: pd.Series) -> pd.Series:
    """Times as naive UTC, which matplotlib's date axis takes without guessing a zone."""
    return column.dt.tz_convert("UTC").dt.tz_localize(None) if column.dt.tz is not None else column


def candles_chart(bars: pd.DataFrame, path: Path, market: str = "BTCUSD") -> Path:
    """Hourly candlesticks (body open to close, wick low to high) over a volume panel."""
    fig = Figure(figsize=CANDLES_SIZE, dpi=DPI, layout="constrained")
    price_ax, volume_ax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1)})
    currency = market[3:]
    if bars.empty:
        price_ax.text(0.5, 0.5, "no hourly bars yet", ha="center", va="center", transform=price_ax.transAxes)
    else:
        x = mdates.date2num(_utc_naive(bars["bucket"]))
        width = 0.7 / 24  # of a day: 70 % of an hour
        up = (bars["close"] >= bars["open"]).to_numpy()
        colors = [UP if u else DOWN for u in up]
        price_ax.vlines(x, bars["low"], bars["high"], colors=colors, linewidth=1)
        body = (bars["close"] - bars["open"]).abs()
        tick = (bars["high"].max() - bars["low"].min()) / 500 or 1e-6  # a doji still shows
        price_ax.bar(x, body.where(body > tick, tick), width, bottom=bars[["open", "close"]].min(axis=1),
                     color=colors, edgecolor=colors, linewidth=0.5)
        price_ax.plot(x, bars["vwap"], color="#1c71d8", linewidth=0.8, alpha=0.6, label="VWAP of the hour")
        price_ax.legend(loc="upper left", fontsize="small")
        volume_ax.bar(x, bars["volume"], width, color=colors, alpha=0.7)
        first, last = _utc_naive(bars["bucket"]).iloc[[0, -1]]
        price_ax.set_title(f"{market}, hourly bars {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC "
                           f"({len(bars)} hours, {int(bars['trades'].sum()):,} trades)")
        locator = mdates.AutoDateLocator()
        volume_ax.xaxis.set_major_locator(locator)
        volume_ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    price_ax.set_ylabel(f"price ({currency} per BTC)")
    volume_ax.set_ylabel("volume (BTC)")
    volume_ax.set_xlabel("UTC")
    for ax in (price_ax, volume_ax):
        ax.grid(True, alpha=0.3)
    fig.savefig(path, dpi=DPI)
    return path


def balances_chart(balances: pd.DataFrame, path: Path) -> Path:
    """Each wallet's balance over time: steps at every ledger entry, dots at every info snapshot."""
    fig = Figure(figsize=BALANCES_SIZE, dpi=DPI, layout="constrained")
    wallets = list(balances.groupby(["account", "currency"], sort=True)) if not balances.empty else []
    axes = fig.subplots(max(1, len(wallets)), 1, sharex=True, squeeze=False)[:, 0]
    if not wallets:
        axes[0].text(0.5, 0.5, "no balances yet", ha="center", va="center", transform=axes[0].transAxes)
    for ax, ((account, currency), rows) in zip(axes, wallets, strict=False):
        ts = _utc_naive(rows["ts"])
        ledger, info = rows["source"] == "ledger", rows["source"] == "info"
        # One step line through both sources: a snapshot shows the balance the last entry left.
        ax.step(ts, rows["balance"], where="post", color="#1c71d8", linewidth=1.2,
                label=f"after each ledger entry ({int(ledger.sum())})")
        if info.any():
            ax.plot(ts[info], rows["balance"][info], "o", color="#e66100", markersize=3,
                    label=f"info snapshots ({int(info.sum())})")
        ax.set_ylabel(currency)
        ax.set_title(f"{account}: {currency} wallet", fontsize="medium", loc="left")
        ax.legend(loc="best", fontsize="small")
        ax.grid(True, alpha=0.3)
    locator = mdates.AutoDateLocator()
    axes[-1].xaxis.set_major_locator(locator)
    axes[-1].xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes[-1].set_xlabel("UTC")
    fig.suptitle("Account balances (balances table: ledger and info)")
    fig.savefig(path, dpi=DPI)
    return path


def write_charts(summary: Summary, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return {
        "candles": candles_chart(summary.bars, out_dir / f"{summary.market}-1h-candles.png", summary.market),
        "balances": balances_chart(summary.balances, out_dir / "balances.png"),
    }


# -- text ------------------------------------------------------------------------------------------


def _when(value: object) -> str:
    return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S") if pd.notna(value) else "-"


def _cursor(value: object, time_at: Callable[[int], int | None]) -> str:
    """A gap's bound as the exchange counts it, with the time it stands for when it is one."""
    if pd.isna(value):
        return "the live feed"
    cursor = int(value)
    when = cursor_when(cursor, time_at)
    return str(cursor) if when is None else f"{cursor} ({when})"


def format_report(summary: Summary, checks: list[CheckResult], *, bars: int = REPORT_BARS) -> list[str]:
    lines = [f"exchange {summary.exchange}: its bars, balances and gaps below; rows per table are every exchange's",
             "rows per table:"]
    names = list(summary.rows)
    for i in range(0, len(names), 4):
        lines.append("  " + "".join(f"{n:<15}{summary.rows[n]:>9,}   " for n in names[i:i + 4]).rstrip())
    lines.append(f"latest hourly bars ({summary.market}, UTC):")
    recent = summary.bars.tail(bars)
    if recent.empty:
        lines.append("  none yet")
    else:
        lines.append(f"  {'hour':<17}{'open':>11}{'high':>11}{'low':>11}{'close':>11}{'volume':>12}{'trades':>8}")
        for r in recent.itertuples():
            lines.append(f"  {_when(r.bucket)[:16]:<17}{r.open:>11.5f}{r.high:>11.5f}{r.low:>11.5f}{r.close:>11.5f}"
                         f"{r.volume:>12.4f}{r.trades:>8}")
    lines.append("balances (latest per currency):")
    if summary.latest.empty:
        lines.append("  none yet")
    for r in summary.latest.itertuples():
        lines.append(f"  {r.account} {r.currency:<4}{r.balance:>22}   at {_when(r.ts)} ({r.source})")
    if summary.open_gaps.empty:
        lines.append("open gaps: none")
    else:
        lines.append(f"open gaps: {len(summary.open_gaps)}")
        time_at = REGISTRY[summary.exchange].time_at
        for g in summary.open_gaps.itertuples():
            lines.append(f"  {g.market}: after {_cursor(g.after_tid, time_at)} through "
                         f"{_cursor(g.through_tid, time_at)}: {g.reason}")
    passed = sum(c.ok for c in checks)
    lines.append(f"checks: {passed} of {len(checks)} pass")
    for c in checks:
        lines.append(f"  {'ok  ' if c.ok else 'FAIL'} {c.name}: {c.summary}" + ("" if c.ok else f" ({c.rows} rows)"))
        for row in () if c.ok else c.sample[:5]:
            lines.append("         " + ", ".join(f"{k}={v}" for k, v in zip(c.columns, row, strict=True)))
    return lines
