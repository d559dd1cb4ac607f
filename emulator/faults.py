"""Injected faults: the `--faults` spec, a reproducible draw per request, and the broken bodies.

Spec: comma-separated items `kind[:param][@endpoint]=probability`, e.g.
`http502=0.05,mysql=0.02,slow:30=0.01,overlap@trades=0.2`. `@endpoint` limits an item to the
endpoints whose name equals or starts with it. Per endpoint the probabilities add up to at most 1.

Every draw is a pure function of (seed, endpoint, n), n counting that endpoint's requests, so a
run is reproducible and one endpoint's faults do not shift when another endpoint gets more traffic.
The failures imitate what Mt.Gox clients met (reference section 2): 5xx with JSON bodies,
`MySQL error, please retry later` with HTTP 200, HTML error pages, cut and dropped responses.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from http import HTTPStatus

import orjson

from .errors import FaultSpecError

MYSQL_ERROR = b"MySQL error, please retry later"
HTML_ERROR_STATUS = 502  # the `html` kind answers with a 502 page, as a broken gateway would

# kind → HTTP status of the kinds that are plain error answers
HTTP_ERROR_KINDS = {"http502": 502, "http503": 503, "http504": 504}
# Kinds that change trade pages; meaningless elsewhere, so they never fire on other endpoints.
TRADE_ONLY_KINDS = frozenset({"overlap", "repeat"})
KINDS = frozenset({*HTTP_ERROR_KINDS, "mysql", "html", "truncate", "slow", "drop", *TRADE_ONLY_KINDS})
DEFAULT_SLOW_S = 30.0
DEFAULT_OVERLAP = 5

_ENDPOINT = re.compile(r"[A-Za-z0-9_./-]+")
_COUNT = re.compile(r"[0-9]{1,9}")
_SUM_SLACK = 1e-9  # "0.1,0.2,0.7" must not fail on float rounding


@dataclass(frozen=True)
class Fault:
    kind: str
    param: float | None  # slow: seconds; overlap: trades (an int); otherwise None

    @property
    def label(self) -> str:
        """`kind` or `kind:param`, as in the spec (for the request log)."""
        if self.param is None:
            return self.kind
        return f"{self.kind}:{self.param:g}"


@dataclass(frozen=True)
class FaultItem:
    kind: str
    param: float | None
    endpoint: str | None  # None: every endpoint
    probability: float
    source: str = field(default="", compare=False)  # the item as written, for error messages

    def applies_to(self, endpoint: str, trade_endpoint: bool) -> bool:
        if self.kind in TRADE_ONLY_KINDS and not trade_endpoint:
            return False
        return self.endpoint is None or endpoint.startswith(self.endpoint)


@dataclass(frozen=True)
class FaultPlan:
    items: tuple[FaultItem, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.items)

    def pick(self, seed: int, endpoint: str, n: int, trade_endpoint: bool) -> Fault | None:
        """The fault of request number `n` of `endpoint`, or None; same arguments, same answer."""
        if not self.items:
            return None
        u = _uniform(b"fault", seed, endpoint, n)
        acc = 0.0
        # Items that do not apply are skipped rather than counted, so each applicable item keeps
        # exactly its own probability.
        for item in self.items:
            if item.applies_to(endpoint, trade_endpoint):
                acc += item.probability
                if u < acc:
                    return Fault(item.kind, item.param)
        return None


def parse_faults(spec: str) -> FaultPlan:
    """The plan of a `--faults` spec; FaultSpecError naming the bad item. Empty spec, empty plan."""
    if not spec.strip():
        return FaultPlan()
    items = tuple(_parse_item(raw.strip(), i) for i, raw in enumerate(spec.split(","), start=1))
    _check_sums(items, spec)
    return FaultPlan(items)


def _parse_item(text: str, i: int) -> FaultItem:
    if not text:
        raise FaultSpecError(f"--faults: item #{i} is empty")

    def bad(why: str) -> FaultSpecError:
        return FaultSpecError(f'--faults: "{text}": {why}')

    head, eq, prob_text = text.rpartition("=")
    if not eq:
        raise bad("expected kind[:param][@endpoint]=probability")
    head, at, endpoint = head.partition("@")
    if at and not _ENDPOINT.fullmatch(endpoint):
        raise bad("expected an endpoint name after @")
    kind, colon, param_text = head.partition(":")
    kind = kind.strip()
    if kind not in KINDS:
        raise bad(f'unknown kind "{kind}" (known: {", ".join(sorted(KINDS))})')

    param: float | None = None
    if kind == "slow":
        param = DEFAULT_SLOW_S
        if colon:
            value = _number(param_text)
            if value is None or value < 0:
                raise bad("slow's parameter must be a number of seconds")
            param = value
    elif kind == "overlap":
        param = DEFAULT_OVERLAP
        if colon:
            if not _COUNT.fullmatch(param_text.strip()) or int(param_text) < 1:
                raise bad("overlap's parameter must be a whole number of trades (at least 1)")
            param = int(param_text)
    elif colon:
        raise bad(f"{kind} takes no parameter")

    probability = _number(prob_text)
    if probability is None or not 0 <= probability <= 1:
        raise bad("the probability must be a number between 0 and 1")
    return FaultItem(kind, param, endpoint if at else None, probability, text)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _check_sums(items: tuple[FaultItem, ...], spec: str) -> None:
    # The items that meet at one endpoint are those whose filters are prefixes of its name; the
    # largest such set belongs to an endpoint named exactly like one of the filters (or, for
    # unfiltered items only, any name). Trade-only kinds are counted: trade endpoints see them.
    for name in sorted({item.endpoint or "" for item in items}):
        meeting = [item for item in items if item.endpoint is None or name.startswith(item.endpoint)]
        total = sum(item.probability for item in meeting)
        if total > 1 + _SUM_SLACK:
            where = f'endpoint "{name}"' if name else "every endpoint"
            raise FaultSpecError(
                f"--faults: probabilities for {where} add up to {total:g} (at most 1): "
                + ",".join(item.source or _item_text(item) for item in meeting)
            )


def _item_text(item: FaultItem) -> str:
    text = Fault(item.kind, item.param).label
    if item.endpoint is not None:
        text += f"@{item.endpoint}"
    return f"{text}={item.probability:g}"


class FaultInjector:
    """Draws the fault of each request, counting requests per endpoint."""

    def __init__(self, plan: FaultPlan, seed: int) -> None:
        self.plan = plan
        self.seed = seed
        self._counts: dict[str, int] = {}

    def count(self, endpoint: str) -> int:
        """Requests of `endpoint` drawn so far."""
        return self._counts.get(endpoint, 0)

    def next(self, endpoint: str, trade_endpoint: bool) -> Fault | None:
        n = self._counts.get(endpoint, 0)
        self._counts[endpoint] = n + 1
        return self.plan.pick(self.seed, endpoint, n, trade_endpoint)


def _uniform(domain: bytes, seed: int, endpoint: str, n: int) -> float:
    """A number in [0, 1) from blake2b: stable across processes and Python versions, unlike hash()."""
    digest = hashlib.blake2b(f"{seed}:{n}:{endpoint}".encode(), digest_size=8, person=domain).digest()
    return int.from_bytes(digest, "big") / 2**64


def truncate_body(body: bytes, seed: int, n: int) -> bytes:
    """`body` cut at a reproducible point strictly inside it.

    Trailing whitespace is never what is left out, so an object or array body (every API answer)
    is always left without its closing bracket and no longer parses as JSON.
    """
    end = len(body.rstrip())
    if end < 2:
        return b""
    cut = 1 + int(_uniform(b"truncate", seed, "", n) * (end - 1))
    return body[:cut]


_ERROR_TEXT = {
    502: "Bad Gateway",
    503: "Service temporarily unavailable, please retry later",
    504: "Gateway Timeout",
}


def error_body(status: int) -> bytes:
    """A Mt.Gox-style JSON error body for a 502, 503 or 504.

    The token is `unknown_error`, the one generic token seen from Mt.Gox; clients such as goxtool
    retried any call that carried it, so the emulated outages are retryable the way real ones were.
    """
    if status not in _ERROR_TEXT:
        raise ValueError(f"no JSON error body for HTTP {status} (502, 503 or 504)")
    return orjson.dumps({"result": "error", "error": _ERROR_TEXT[status], "token": "unknown_error"})


def html_error_page(status: int) -> bytes:
    """A bare web-server error page, the kind clients got instead of JSON when a gateway failed."""
    title = f"{status} {HTTPStatus(status).phrase}"
    return (
        "<!DOCTYPE html>\n"
        f"<html><head><title>{title}</title></head>\n"
        f"<body><center><h1>{title}</h1></center><hr><center>nginx</center></body></html>\n"
    ).encode()
