"""The rate budget of one (host, API key), shared by every marketrec process on the machine.

Mt.Gox caches every method for 10 s and may block a client that asks more often; full depth is
limited to 5 an hour (reference section 7). Those limits are the exchange's, per client, so two
collectors on one key must share them, through a SQLite file all processes use:

    decide(history, want, now_s) -> slot           pure: the earliest slot >= now_s that keeps
                                                   every rule against the history
    SharedBudget(path).reserve(want, now_s)        plan: decide against everything reserved or
                                                   sent, record the reservation, return its slot
    SharedBudget(path).claim(want, slot, now_s)    at send time: decide against what was actually
                                                   sent; now_s means "send now" (recorded as sent
                                                   at now_s), a later time means "sleep, claim again"

Reserving spreads the processes out so they rarely collide; claiming is what makes the limits
hold for real. A task that wakes late (a busy event loop, a loaded machine) is recorded at its
real send time, and a request reserved after it but claimed before it finds that out and waits,
so the spacing the exchange sees is never shorter than the rules, whatever the lateness. Claims
also catch a cool-off that began while a task slept. Claims see only claimed sends, so every
process on a budget should claim; a caller that only reserves gets the slots' spacing, which
holds for real only as well as it wakes on time.

The rules, for a budget (host + key fingerprint) and an endpoint ("fulldepth:BTCUSD"):

- per endpoint, `min_interval_s` between slots, granted in order (FIFO): a new slot always
  follows the endpoint's latest one. Never slipping into a gap before a later reservation is
  what keeps a wall clock stepped back from bunching requests; the price is that after such a
  step an endpoint used recently waits until the clock catches up (up to the size of the step);
- per endpoint, at most `per_hour` slots in any 3600 s window (full depth), when set;
- per budget, `1 / global_rps` between any two slots, of any endpoints. Here earlier gaps may be
  used, so a full-depth slot reserved an hour ahead does not hold up the ticker. (After the clock
  steps back by more than the gap, this one rule can be broken once in real time.)
- per call counter (Kraken's private calls), when the want names one: the costs of the counter's
  slots in any `window_s` = limit / decay seconds, this one's included, stay within `limit`. The
  exchange's counter (plus cost per call, minus decay per second, refused above the limit) can then
  never pass the limit: its value at a slot is at most the costs of the window before it. That
  allows the exchange's burst and, sustained, exactly its decay rate. Granted in order (FIFO).
- a cool-off set by `block` (Retry-After, an anti-DDoS page): no slot before it ends.

Slots are seconds on the caller's clock, which should be the wall clock (`time.time()`): it is
the one all processes share and the only one that survives a reboot, which an hourly cap needs.

Storage: SQLite, WAL, `BEGIN IMMEDIATE` per reservation, `synchronous=FULL`. NORMAL would save
the fsync, but a power cut could then roll back every commit since the last checkpoint (up to
about a thousand reservations, a quarter of an hour or more), and after a quick reboot the hourly
cap would count only what survived. One fsync per request sent is cheap next to the request.
Rows that can no longer constrain a slot are pruned, except each endpoint's latest.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .nonce import StateDb

HOUR_S = 3600.0


@dataclass(frozen=True, slots=True)
class CallCounter:
    """A counter several endpoints of a budget share: each call adds its cost, it decays over time,
    and the exchange refuses calls above `limit` (Kraken: +2 per ledger or trade-history call, +1
    for others, 15 and -0.33/s for a Starter key)."""

    key: str  # which counter, e.g. "private"
    costs: tuple[tuple[str, float], ...]  # (endpoint_key, cost) of every endpoint that counts
    limit: float
    decay_per_s: float

    def __post_init__(self) -> None:
        if not self.costs or any(not _number(c) or not math.isfinite(c) or c <= 0 for _, c in self.costs):
            raise ValueError(f"CallCounter.costs must name endpoints with costs > 0, got {self.costs!r}")
        if not _number(self.limit) or not math.isfinite(self.limit) or self.limit < max(c for _, c in self.costs):
            raise ValueError(f"CallCounter.limit must be finite and at least the largest cost, got {self.limit!r}")
        if not _number(self.decay_per_s) or not math.isfinite(self.decay_per_s) or self.decay_per_s <= 0:
            raise ValueError(f"CallCounter.decay_per_s must be a finite number > 0, got {self.decay_per_s!r}")

    @property
    def window_s(self) -> float:
        """How long a full counter takes to decay to nothing."""
        return self.limit / self.decay_per_s

    def cost(self, endpoint_key: str) -> float:
        return dict(self.costs).get(endpoint_key, 0.0)


@dataclass(frozen=True, slots=True)
class Want:
    """One request asking for a slot."""

    budget_key: str  # host + API key fingerprint: the client the exchange counts
    endpoint_key: str  # e.g. "fulldepth:BTCUSD"
    min_interval_s: float  # between two requests to this endpoint (Mt.Gox: 10 s)
    per_hour: int | None  # at most this many in any 3600 s window (full depth: 5), None for no cap
    global_rps: float  # requests per second for the whole budget; math.inf for no cap
    counter: CallCounter | None = None  # a decaying call counter this endpoint counts against

    def __post_init__(self) -> None:
        for name in ("budget_key", "endpoint_key"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"Want.{name} must be a non-empty string, got {value!r}")
        if not _number(self.min_interval_s) or not math.isfinite(self.min_interval_s) or self.min_interval_s < 0:
            raise ValueError(f"Want.min_interval_s must be a finite number >= 0, got {self.min_interval_s!r}")
        if self.per_hour is not None and (
            not isinstance(self.per_hour, int) or isinstance(self.per_hour, bool) or self.per_hour < 1
        ):
            raise ValueError(f"Want.per_hour must be None or an integer >= 1, got {self.per_hour!r}")
        if not _number(self.global_rps) or math.isnan(self.global_rps) or self.global_rps <= 0:
            raise ValueError(f"Want.global_rps must be a number > 0 (math.inf for no cap), got {self.global_rps!r}")
        if self.counter is not None and self.counter.cost(self.endpoint_key) <= 0:
            raise ValueError(f"Want.endpoint_key {self.endpoint_key!r} has no cost in its counter {self.counter.key!r}")

    @property
    def gap_s(self) -> float:
        """The least time between two slots of the budget."""
        return 0.0 if math.isinf(self.global_rps) else 1.0 / self.global_rps


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class Reserved:
    endpoint_key: str
    slot_s: float


@dataclass(frozen=True, slots=True)
class BudgetHistory:
    """What one budget has reserved (in any order) and its cool-off, as far as a new slot cares."""

    reserved: tuple[Reserved, ...] = ()
    blocked_until_s: float | None = None

    def add(self, endpoint_key: str, slot_s: float) -> BudgetHistory:
        return BudgetHistory((*self.reserved, Reserved(endpoint_key, slot_s)), self.blocked_until_s)

    def block(self, until_s: float) -> BudgetHistory:
        current = self.blocked_until_s
        return BudgetHistory(self.reserved, until_s if current is None else max(current, until_s))


def decide(history: BudgetHistory, request: Want, now_s: float) -> float:
    """The earliest time >= now_s at which `request` may be sent, given what `history` holds.

    `history` must be that of `request.budget_key`. Deterministic; see the module docstring for
    the rules. A history trimmed to the rows that can matter (what SharedBudget loads) gives the
    same answer as the full one.
    """
    if not math.isfinite(now_s):
        raise ValueError(f"now_s must be a finite number, got {now_s!r}")
    slot = now_s
    if history.blocked_until_s is not None:
        slot = max(slot, history.blocked_until_s)

    mine = sorted(r.slot_s for r in history.reserved if r.endpoint_key == request.endpoint_key)
    if mine:
        slot = max(slot, mine[-1] + request.min_interval_s)
        # FIFO makes `mine` the endpoint's slots in the order granted, so the per_hour-th latest
        # one is the oldest that could share a 3600 s window with the new slot.
        if request.per_hour is not None and len(mine) >= request.per_hour:
            slot = max(slot, mine[-request.per_hour] + HOUR_S)

    if request.counter is not None:
        slot = _counter_slot(history, request.counter, request.counter.cost(request.endpoint_key), slot)

    gap = request.gap_s
    if gap > 0:
        # First fit: walk the budget's slots in time order, moving past each one too close.
        # Every move is forward, so the bounds above still hold.
        for other in sorted(r.slot_s for r in history.reserved):
            if other <= slot - gap:
                continue
            if other >= slot + gap:
                break
            slot = other + gap
    return slot


def _counter_slot(history: BudgetHistory, counter: CallCounter, cost: float, slot: float) -> float:
    """The earliest time >= slot, and >= the counter's latest slot, at which the costs in the window
    before it leave room for `cost`."""
    counted = sorted((r.slot_s, counter.cost(r.endpoint_key)) for r in history.reserved
                     if counter.cost(r.endpoint_key) > 0)
    if counted:
        slot = max(slot, counted[-1][0])
    window, room = counter.window_s, counter.limit - cost
    # Walk the oldest slots out of the window until the rest fit; every move is forward.
    first = 0
    while True:
        while first < len(counted) and counted[first][0] <= slot - window:
            first += 1
        if sum(c for _, c in counted[first:]) <= room + 1e-9:
            return slot
        slot = counted[first][0] + window


def _keep_until(want: Want, slot_s: float) -> float:
    # Past this a slot constrains nothing at or after now: not the interval, the gap, the hour or a counter.
    counter_s = want.counter.window_s if want.counter is not None else 0.0
    return slot_s + max(want.min_interval_s, want.gap_s, HOUR_S if want.per_hour is not None else 0.0, counter_s)


def _finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS budget_slots (
    budget_key TEXT NOT NULL,
    endpoint_key TEXT NOT NULL,
    slot_s REAL NOT NULL,           -- the planned send time, or once claimed (sent = 1) the real one
    sent INTEGER NOT NULL,          -- 0: reserved, 1: claimed, i.e. sent (or about to be) at slot_s
    keep_until_s REAL NOT NULL      -- after this the row can only matter as its endpoint's latest
);
CREATE INDEX IF NOT EXISTS budget_slots_endpoint ON budget_slots (budget_key, endpoint_key, slot_s);
CREATE INDEX IF NOT EXISTS budget_slots_time ON budget_slots (budget_key, slot_s);
CREATE TABLE IF NOT EXISTS budget_blocks (
    budget_key TEXT PRIMARY KEY,
    until_s REAL NOT NULL
) WITHOUT ROWID;
"""


class SharedBudget:
    """Slots per (host, key) in one SQLite file that every process on the machine shares.

    Example (for each request):
        slot = budget.reserve(want, time.time())
        while True:
            await asyncio.sleep(max(0.0, slot - time.time()))
            now = time.time()
            slot = budget.claim(want, slot, now)
            if slot <= now:
                break
        ... send at once ...
    """

    def __init__(self, path: Path, *, timeout_s: float = 10.0, prune_every_s: float | None = 60.0) -> None:
        """`prune_every_s`: how often (on the caller's clock) `reserve` prunes; None: only `prune()` does."""
        self._db = StateDb(path, schema=_SCHEMA, synchronous="FULL", timeout_s=timeout_s)
        self._prune_every_s = prune_every_s
        self._pruned_at: float | None = None

    @property
    def path(self) -> Path:
        return self._db.path

    def reserve(self, want: Want, now_s: float) -> float:
        """Reserve and return the earliest slot for `want`: sleep until then, then `claim` it."""
        _finite("now_s", now_s)
        with self._db.write("reserve a request slot") as conn:
            slot = decide(self._history(conn, want, now_s, sent_only=False), want, now_s)
            conn.execute(
                "INSERT INTO budget_slots (budget_key, endpoint_key, slot_s, sent, keep_until_s) "
                "VALUES (?, ?, ?, 0, ?)",
                (want.budget_key, want.endpoint_key, slot, _keep_until(want, slot)),
            )
            every = self._prune_every_s
            if every is not None and (self._pruned_at is None or abs(now_s - self._pruned_at) >= every):
                self._prune(conn, now_s)
                self._pruned_at = now_s
        return slot

    def claim(self, want: Want, slot_s: float, now_s: float) -> float:
        """Right before sending the request reserved at `slot_s`: may it go at `now_s`?

        Returns `now_s` when it may: the reservation is then recorded as sent at `now_s`, so send
        at once. Returns a later time when it may not (a request to the endpoint went out late, a
        cool-off began, or `now_s` is before the slot): the reservation moves there; sleep until
        then and claim again with the time returned. Only sends count here, never reservations,
        so a reservation whose task died cannot hold anyone up. A slot that is not (or no longer)
        reserved is claimed as if it had just been.
        """
        _finite("slot_s", slot_s)
        _finite("now_s", now_s)
        with self._db.write("claim a request slot") as conn:
            row = conn.execute(
                "SELECT rowid FROM budget_slots WHERE budget_key = ? AND endpoint_key = ? AND slot_s = ? AND sent = 0 "
                "LIMIT 1",
                (want.budget_key, want.endpoint_key, slot_s),
            ).fetchone()
            at = decide(self._history(conn, want, now_s, sent_only=True), want, now_s)
            if row is not None:
                at = max(at, slot_s)  # a task woken early keeps to its plan
            sent = at <= now_s
            if row is None:
                conn.execute(
                    "INSERT INTO budget_slots (budget_key, endpoint_key, slot_s, sent, keep_until_s) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (want.budget_key, want.endpoint_key, at, int(sent), _keep_until(want, at)),
                )
            else:
                conn.execute(
                    "UPDATE budget_slots SET slot_s = ?, sent = ?, keep_until_s = ? WHERE rowid = ?",
                    (at, int(sent), _keep_until(want, at), row[0]),
                )
        return at

    @staticmethod
    def _history(conn: sqlite3.Connection, want: Want, now_s: float, *, sent_only: bool) -> BudgetHistory:
        # Only what decide can use: the endpoint's latest `per_hour` slots (or the latest one),
        # every budget slot that could be within the global gap of a slot >= now_s, the cool-off.
        sent = " AND sent = 1" if sent_only else ""
        rows: dict[int, Reserved] = {}
        mine = conn.execute(
            f"SELECT rowid, slot_s FROM budget_slots WHERE budget_key = ? AND endpoint_key = ?{sent} "
            "ORDER BY slot_s DESC LIMIT ?",
            (want.budget_key, want.endpoint_key, want.per_hour or 1),
        )
        for rowid, slot_s in mine:
            rows[rowid] = Reserved(want.endpoint_key, slot_s)
        if want.gap_s > 0:
            near = conn.execute(
                f"SELECT rowid, endpoint_key, slot_s FROM budget_slots WHERE budget_key = ? AND slot_s > ?{sent}",
                (want.budget_key, now_s - want.gap_s),
            )
            for rowid, endpoint_key, slot_s in near:
                rows[rowid] = Reserved(endpoint_key, slot_s)
        if want.counter is not None:
            members = [key for key, _ in want.counter.costs]
            marks = ", ".join("?" * len(members))
            counted = conn.execute(
                f"SELECT rowid, endpoint_key, slot_s FROM budget_slots WHERE budget_key = ? "
                f"AND endpoint_key IN ({marks}) AND slot_s > ?{sent}",
                (want.budget_key, *members, now_s - want.counter.window_s),
            )
            for rowid, endpoint_key, slot_s in counted:
                rows[rowid] = Reserved(endpoint_key, slot_s)
        row = conn.execute("SELECT until_s FROM budget_blocks WHERE budget_key = ?", (want.budget_key,)).fetchone()
        return BudgetHistory(tuple(rows.values()), None if row is None else row[0])

    def release(self, want: Want, slot_s: float) -> bool:
        """Give back a reservation whose request will not be sent (cancelled while waiting); True if found.

        Optional: an unreleased reservation only delays the endpoint's next reservation by one
        interval, and never a claim. A claimed slot cannot be released: the exchange counted it.
        """
        with self._db.write("release a request slot") as conn:
            cur = conn.execute(
                "DELETE FROM budget_slots WHERE rowid = (SELECT rowid FROM budget_slots "
                "WHERE budget_key = ? AND endpoint_key = ? AND slot_s = ? AND sent = 0 LIMIT 1)",
                (want.budget_key, want.endpoint_key, slot_s),
            )
            return cur.rowcount > 0

    def block(self, budget_key: str, until_s: float) -> None:
        """A cool-off for the whole budget: no slot before `until_s` for any endpoint, in any process.

        A shorter cool-off never shortens a longer one already recorded.
        """
        _finite("until_s", until_s)
        with self._db.write("record a cool-off") as conn:
            conn.execute(
                "INSERT INTO budget_blocks (budget_key, until_s) VALUES (?, ?) "
                "ON CONFLICT (budget_key) DO UPDATE SET until_s = max(until_s, excluded.until_s)",
                (budget_key, until_s),
            )

    def blocked_until(self, budget_key: str) -> float | None:
        """The end of the budget's cool-off (possibly past), None if none is recorded."""
        with self._db.read("read a cool-off") as conn:
            row = conn.execute("SELECT until_s FROM budget_blocks WHERE budget_key = ?", (budget_key,)).fetchone()
        return None if row is None else float(row[0])

    def last_sent(self, budget_key: str, now_s: float | None = None) -> dict[str, float]:
        """{endpoint_key: latest slot} of a budget, for `marketrec status`.

        A claimed slot is the real send time. Without `now_s` this includes slots reserved for the
        future (requests still waiting); with it, only slots at or before `now_s`.
        """
        bound = math.inf if now_s is None else now_s
        with self._db.read("read the budget") as conn:
            rows = conn.execute(
                "SELECT endpoint_key, max(slot_s) FROM budget_slots WHERE budget_key = ? AND slot_s <= ? "
                "GROUP BY endpoint_key ORDER BY endpoint_key",
                (budget_key, bound),
            ).fetchall()
        return {endpoint_key: float(slot_s) for endpoint_key, slot_s in rows}

    def prune(self, now_s: float) -> int:
        """Drop rows that can no longer constrain a slot at or after `now_s`; the number dropped.

        `reserve` calls this every `prune_every_s`; it is public for tests and maintenance.
        """
        with self._db.write("prune the budget") as conn:
            return self._prune(conn, now_s)

    @staticmethod
    def _prune(conn: sqlite3.Connection, now_s: float) -> int:
        # Each endpoint's latest slot is kept whatever its age: FIFO spacing is measured from it, and
        # a later want may ask a longer interval (a changed configuration) than the row was kept for.
        slots = conn.execute(
            "DELETE FROM budget_slots WHERE keep_until_s < ? AND EXISTS (SELECT 1 FROM budget_slots AS later "
            "WHERE later.budget_key = budget_slots.budget_key AND later.endpoint_key = budget_slots.endpoint_key "
            "AND later.slot_s > budget_slots.slot_s)",
            (now_s,),
        ).rowcount
        # An ended cool-off cannot delay a slot >= now_s; an hour's grace covers a clock stepped back.
        blocks = conn.execute("DELETE FROM budget_blocks WHERE until_s < ?", (now_s - HOUR_S,)).rowcount
        return slots + blocks

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SharedBudget:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
