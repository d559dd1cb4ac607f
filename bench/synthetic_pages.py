"""Synthetic Mt.Gox v1 trade pages, written as the collector leaves them: journal -> raw Parquet -> compacted.

The tape (numpy, seeded): one-minute log returns with GARCH(1,1) volatility clusters and a slow drift,
reflected into [$2, $3000]; arrivals per minute follow volatility and a calm/burst chain, and exactly
`trades` of them are drawn (multinomial); times are uniform within the minute, tids are the µs times made
strictly increasing (as on Mt.Gox after June 2011). Prices are the minute's Brownian bridge plus noise,
rounded like limit prices (some to the cent or the dollar); amounts, sides, `market`/`limit` and the
cross-currency copies (`mixed_currency`, half of them `primary:"N"`) follow the emulator's proportions.

Pages: 1000 trades each, `since` = the previous page's last tid, received a few seconds after their last
trade. The body is built column-wise with pyarrow string kernels and is byte for byte what the emulator
answers (`orjson.dumps({"result":"success","return":trades_json(page, version=1)})`), which
`check_pages` verifies on sampled pages.

    generate(root, trades=..., days=..., holdout_us=...) -> Generated
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from collector.journal import Journal
from collector.rawstore import RawStore
from collector.record import RawRecord

GENERATOR_VERSION = 1
PAGE = 1000  # trades per v1 `since` page
MINUTE_US = 60_000_000
DAY_US = 86_400_000_000
START_US = 1_309_478_400_000_000  # 2011-07-01T00:00:00Z, after the June 2011 relaunch: µs tids only
SEGMENT_BYTES = 64 * 2**20
MARKET = "BTCUSD"
PATH = f"/api/1/{MARKET}/trades"
RUN_ID = "bench-pipeline"
BASE_VAR = 0.0012**2  # per-minute variance: about 5 % a day, as the emulator's market

_PREFIX = b'{"result":"success","return":['
_SUFFIX = b"]}"


@dataclass(frozen=True, slots=True)
class Tape:
    """The trades, in tid order, as integer columns."""

    tid: np.ndarray  # int64 µs, strictly increasing; the trade time too
    price_int: np.ndarray  # USD * 1e5
    amount_int: np.ndarray  # BTC * 1e8
    bid: np.ndarray  # bool: trade_type "bid" (else "ask")
    primary: np.ndarray  # bool
    props: np.ndarray  # int8 index into PROPERTIES

    def __len__(self) -> int:
        return len(self.tid)

    def slice(self, start: int, stop: int) -> Tape:
        return Tape(*(getattr(self, f)[start:stop] for f in self.__dataclass_fields__))


PROPERTIES = ["limit", "market", "limit,mixed_currency", "market,mixed_currency"]


def make_tape(trades: int, days: int, *, seed: int = 7, start_us: int = START_US) -> Tape:
    """`trades` trades over `days` days from `start_us`."""
    rng = np.random.default_rng(seed)
    minutes = days * 1440
    z = rng.standard_normal(minutes)
    u = rng.random(minutes)
    shock = np.empty(minutes)
    var = np.empty(minutes)
    burst = np.empty(minutes, dtype=bool)
    v, b = BASE_VAR, False
    zl, ul = z.tolist(), u.tolist()  # a Python loop over lists is several times faster than over numpy scalars
    shock_l, var_l, burst_l = [0.0] * minutes, [0.0] * minutes, [False] * minutes
    for m in range(minutes):  # GARCH(1,1) and the burst chain are recursions: one pass
        s = zl[m] * math.sqrt(v)
        shock_l[m], var_l[m] = s, v
        v = BASE_VAR * 0.02 + 0.09 * s * s + 0.89 * v
        b = ul[m] < (0.75 if b else 0.02)
        burst_l[m] = b
    shock[:], var[:], burst[:] = shock_l, var_l, burst_l
    # A drift from $15 toward a few hundred dollars over three years, then reflection into [$2, $3000].
    drift = math.log(40) / (3 * 365 * 1440)
    walk = math.log(15.0) + np.cumsum(shock + drift)
    lo, hi = math.log(2.0), math.log(3000.0)
    span = hi - lo
    t = np.mod(walk - lo, 2 * span)
    close = lo + np.where(t <= span, t, 2 * span - t)
    open_ = np.concatenate([[math.log(15.0)], close[:-1]])

    intensity = np.sqrt(var / BASE_VAR) * np.where(burst, 5.0, 1.0)
    counts = rng.multinomial(trades, intensity / intensity.sum())
    minute = np.repeat(np.arange(minutes, dtype=np.int64), counts)
    offset = rng.integers(0, MINUTE_US, size=trades, dtype=np.int64)
    order = np.lexsort((offset, minute))
    minute, offset = minute[order], offset[order]
    time_us = start_us + minute * MINUTE_US + offset
    ramp = np.arange(trades, dtype=np.int64)
    tid = np.maximum.accumulate(time_us - ramp) + ramp  # strictly increasing, >= the time

    frac = offset / MINUTE_US
    log_p = (open_[minute] + frac * (close[minute] - open_[minute])
             + rng.standard_normal(trades) * 0.25 * np.sqrt(var[minute]))
    price = np.maximum(1, np.rint(np.exp(log_p) * 100_000)).astype(np.int64)
    r = rng.random(trades)
    step = np.where(r < 0.25, 1_000, np.where(r < 0.3, 100_000, 1)).astype(np.int64)
    price = np.maximum(step, np.rint(price / step).astype(np.int64) * step)

    lot = rng.random(trades) < 0.15
    lots = (rng.choice(np.array([1, 2, 5, 10, 20, 50]), trades) * 10_000_000
            * rng.choice(np.array([1, 10]), trades)).astype(np.int64)
    free = np.maximum(1_000_000, np.rint(np.exp(rng.normal(-0.5, 1.6, trades)) * 1e8)).astype(np.int64)
    amount = np.where(lot, lots, free)

    bid = rng.random(trades) < 0.5
    market_order = rng.random(trades) < 0.3
    mixed = rng.random(trades) < 0.10  # fills across two currencies, seen in the USD feed
    primary = ~(mixed & (rng.random(trades) < 0.5))  # the USD copy is primary when the taker paid USD
    props = (market_order.astype(np.int8) + 2 * mixed.astype(np.int8)).astype(np.int8)
    props = np.where(mixed & ~primary, 2, props).astype(np.int8)  # a non-primary copy is always a limit fill
    return Tape(tid, price, amount, bid, primary, props)


# --- JSON, column-wise --------------------------------------------------------------------------------------------


def _plain_decimal(values: np.ndarray, decimals: int) -> pa.Array:
    """`emulator.market_views.plain_decimal` over a column: '72.98274', '0.1065', '15'."""
    scale = 10**decimals
    whole = pc.cast(pa.array(values // scale), pa.string())
    frac = values % scale
    digits = pc.utf8_rtrim(pc.utf8_lpad(pc.cast(pa.array(frac), pa.string()), decimals, "0"), "0")
    return pc.if_else(pa.array(frac == 0), whole, pc.binary_join_element_wise(whole, digits, "."))


def trade_json_column(tape: Tape) -> pa.Array:
    """One JSON object per trade, keys and spelling as the emulator's `trade_json(version=1)`."""
    s = pa.string()
    tid = pc.cast(pa.array(tape.tid), s)
    date = pc.cast(pa.array(tape.tid // 1_000_000), s)
    side = pc.if_else(pa.array(tape.bid), "bid", "ask")
    primary = pc.if_else(pa.array(tape.primary), "Y", "N")
    props = pa.DictionaryArray.from_arrays(pa.array(tape.props), pa.array(PROPERTIES)).cast(s)
    parts = ['{"date":', date, ',"price":"', _plain_decimal(tape.price_int, 5),
             '","amount":"', _plain_decimal(tape.amount_int, 8),
             '","price_int":"', pc.cast(pa.array(tape.price_int), s),
             '","amount_int":"', pc.cast(pa.array(tape.amount_int), s),
             '","tid":"', tid, '","price_currency":"USD","item":"BTC","trade_type":"', side,
             '","primary":"', primary, '","properties":"', props, '"}']
    return pc.binary_join_element_wise(*parts, "")


def page_bodies(tape: Tape) -> list[bytes]:
    """The v1 `trades?since=` answers for consecutive pages of `PAGE` trades (the last may be short)."""
    n = len(tape)
    offsets = pa.array(np.append(np.arange(0, n, PAGE), n).astype(np.int32))
    pages = pc.binary_join(pa.ListArray.from_arrays(offsets, trade_json_column(tape)), ",")
    return [_PREFIX + body + _SUFFIX for body in pc.cast(pages, pa.binary()).to_pylist()]


def emulator_body(tape: Tape) -> bytes:
    """What the emulator serves for these trades (the reference `check_pages` compares with)."""
    from emulator.market_views import trades_json
    from emulator.model import Trade

    trades = [Trade(int(t), int(t), int(p), int(a), "USD", "bid" if b else "ask", bool(y), PROPERTIES[k])
              for t, p, a, b, y, k in zip(tape.tid, tape.price_int, tape.amount_int, tape.bid, tape.primary,
                                          tape.props, strict=True)]
    return orjson.dumps({"result": "success", "return": trades_json(trades, version=1)})


def check_pages(tape: Tape, bodies: list[bytes], samples: int = 4, seed: int = 1) -> None:
    """Raise unless sampled pages equal the emulator's bytes and the collector accepts them as full pages."""
    from collector.exchanges.mtgox import classify, trades_page

    rng = np.random.default_rng(seed)
    picks = {0, len(bodies) - 1, *rng.integers(0, len(bodies), samples).tolist()}
    for i in sorted(picks):
        page = tape.slice(i * PAGE, (i + 1) * PAGE)
        if bodies[i] != emulator_body(page):
            raise AssertionError(f"page {i}: the synthetic body differs from the emulator's")
        error, decoded = classify(200, "application/json", bodies[i], False)
        parsed = trades_page(decoded, 1)
        if error is not None or list(parsed.tids) != page.tid.tolist():
            raise AssertionError(f"page {i}: the collector does not read it back ({error})")


# --- records, journal, raw store ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Written:
    records: int
    trades: int
    coverage: list[tuple[int, int, int, int, int, str, int]]  # after, through, first_us, last_us, trades, id, at


def _pages(tape: Tape, since: int, rng: np.random.Generator, chunk_pages: int = 320
           ) -> Iterator[tuple[int, Tape, bytes, int, int]]:
    """(since, page trades, body, sent_at, received_at) per page, bodies built a chunk at a time."""
    received_prev = 0
    for start in range(0, len(tape), chunk_pages * PAGE):
        chunk = tape.slice(start, start + chunk_pages * PAGE)
        bodies = page_bodies(chunk)
        if start == 0:
            check_pages(chunk, bodies)
        delay = rng.integers(500_000, 10_000_000, len(bodies))
        latency = rng.integers(60_000, 400_000, len(bodies))
        for i, body in enumerate(bodies):
            page = chunk.slice(i * PAGE, (i + 1) * PAGE)
            received = max(int(page.tid[-1]) + int(delay[i]), received_prev + 1_000)
            received_prev = received
            yield since, page, body, received - int(latency[i]), received
            since = int(page.tid[-1])


def journal_pages(tape: Tape, journal: Journal, since: int, *, seed: int,
                  on_roll: Callable[[Path], None] | None = None) -> Written:
    """Append one raw record per page; with `on_roll`, roll at the segment size and hand each segment over."""
    rng = np.random.default_rng(seed)
    coverage = []
    records = 0
    for after, page, body, sent, received in _pages(tape, since, rng):
        params = orjson.dumps({"since": str(after)}).decode()
        stored = journal.append(RawRecord("", "mtgox", "trades", MARKET, 1, "GET", PATH, params, sent, received,
                                          200, None, body, RUN_ID))
        through = int(page.tid[-1])
        coverage.append((after, through, int(page.tid[0]), through, len(page), stored.record_id, received))
        records += 1
        if on_roll is not None and journal.should_roll(time.time()):
            segment = journal.roll()
            if segment is not None:
                on_roll(segment)
    return Written(records, len(tape), coverage)


def write_meta(meta: Path, coverage: list[tuple[int, int, int, int, int, str, int]]) -> None:
    """coverage.parquet and gaps.parquet (none) in the columns and types `collector.state.export` writes."""
    meta.mkdir(parents=True, exist_ok=True)
    cols = list(zip(*coverage, strict=True)) if coverage else [[]] * 7
    i64, s = pa.int64(), pa.string()
    n = len(coverage)
    table = pa.table({"exchange": pa.array(["mtgox"] * n, s), "market": pa.array([MARKET] * n, s),
                      "after_tid": pa.array(cols[0], i64), "through_tid": pa.array(cols[1], i64),
                      "first_us": pa.array(cols[2], i64), "last_us": pa.array(cols[3], i64),
                      "trades": pa.array(cols[4], i64), "record_id": pa.array(cols[5], s),
                      "fetched_us": pa.array(cols[6], i64)})
    pq.write_table(table, meta / "coverage.parquet")
    gaps = pa.table({"id": pa.array([], i64), "exchange": pa.array([], s), "market": pa.array([], s),
                     "after_tid": pa.array([], i64), "through_tid": pa.array([], i64), "reason": pa.array([], s),
                     "opened_us": pa.array([], i64), "closed_us": pa.array([], i64)})
    pq.write_table(gaps, meta / "gaps.parquet")


@dataclass(frozen=True, slots=True)
class Generated:
    trades: int
    base_trades: int
    day_trades: int
    base_records: int
    day_records: int
    first_tid: int
    last_tid: int
    holdout_from_us: int
    day_segment: str  # file name of the held-out day's closed journal segment
    seconds: float


def generate(directory: Path, *, trades: int, days: int, seed: int = 7,
             log: Callable[[str], None] = print) -> Generated:
    """Write under `directory`:

        base/raw/..., base/meta/   the raw store of every page before the last day, ingested per 64 MiB
                                   segment and compacted, as a long-running collector leaves it
        day/journal/<id>.closed    the last day's pages, one closed journal segment, not yet ingested
        day/meta/                  coverage including the last day (what the collector exports after it)
    """
    started = time.perf_counter()
    shutil.rmtree(directory, ignore_errors=True)
    tape = make_tape(trades, days, seed=seed)
    log(f"  tape: {len(tape):,} trades over {days} days ({time.perf_counter() - started:.1f} s)")
    holdout = START_US + (days - 1) * DAY_US
    split = int(np.searchsorted(tape.tid, holdout))
    base, day = tape.slice(0, split), tape.slice(split, len(tape))

    store = RawStore(str(directory / "base"), target_file_bytes=SEGMENT_BYTES)
    journal = Journal(directory / "base" / "journal", run_id=RUN_ID, segment_max_bytes=SEGMENT_BYTES,
                      segment_max_age_s=10**9)
    written = journal_pages(base, journal, START_US, seed=seed + 1, on_roll=store.ingest_segment)
    last = journal.close()
    if last is not None:
        store.ingest_segment(last)
    log(f"  base: {written.records:,} records journaled and ingested ({time.perf_counter() - started:.1f} s)")
    result = store.compact()
    store.close()
    (directory / "base" / "journal").rmdir()
    log(f"  compacted {result.files_in:,} files into {result.files_out:,} ({time.perf_counter() - started:.1f} s)")
    write_meta(directory / "base" / "meta", written.coverage)

    day_journal = Journal(directory / "day" / "journal", run_id=RUN_ID, segment_max_bytes=SEGMENT_BYTES,
                          segment_max_age_s=10**9)
    since = int(base.tid[-1]) if len(base) else START_US
    day_written = journal_pages(day, day_journal, since, seed=seed + 2)
    segment = day_journal.close()
    if segment is None:
        raise SystemExit("the last day has no trades: use more trades or fewer days")
    write_meta(directory / "day" / "meta", written.coverage + day_written.coverage)
    return Generated(len(tape), len(base), len(day), written.records, day_written.records, int(tape.tid[0]),
                     int(tape.tid[-1]), holdout, segment.name, round(time.perf_counter() - started, 2))


def main() -> None:
    """A self-check: a small tape's pages against the emulator's bytes (what `make bench` runs)."""
    tape = make_tape(20_000, 2)
    bodies = page_bodies(tape)
    check_pages(tape, bodies, samples=len(bodies))
    print(f"synthetic pages: {len(bodies)} v1 trade pages ({len(tape):,} trades) byte-equal the emulator's; "
          f"{sum(map(len, bodies)) / len(tape):.0f} bytes of JSON per trade")


if __name__ == "__main__":
    main()
