"""API keys, Rest-Sign verification, nonce/tonce bookkeeping and rights. Pure (the clock is an argument).

A private call carries `Rest-Key` (the key's uuid) and `Rest-Sign`, the base64 HMAC-SHA512 of a
message under the base64-decoded secret (reference section 6). v0 and v1 sign the url-encoded
body; v2 signs `path + "\\0" + body`, `path` being what follows `/api/2/` without the query.

Checks run in a fixed order, cheapest trust first: key present, key known, signature, nonce or
tonce, right. The nonce is recorded only once every check has passed, so a request that fails
(a forged one above all) never moves a key's nonce forward. No message ever carries a secret or a
signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import hmac
import random
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import orjson

from .errors import AuthError, KeysFileError

RIGHTS = frozenset({"get_info", "trade", "deposit", "withdraw", "withdraw_mgmt", "merchant"})

# Mt.Gox stored nonces as signed 64-bit integers (reference section 6).
NONCE_MAX = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")
_V2_PREFIX = "/api/2/"

_MISSING_KEY = ("Identification required to access private API", "login_error_missing_rest_key")
_UNKNOWN_KEY = ("Unknown API key", "login_error_invalid_rest_key")
_BAD_SIGN = ("Invalid request signature", "login_error_invalid_rest_sign")
_BAD_NONCE_FORMAT = ("Missing or malformed nonce", "login_error_invalid_nonce")
_STALE_NONCE = ("Invalid nonce: it must be greater than the previous one", "login_error_invalid_nonce")
_BAD_TONCE = ("Invalid tonce: outside the allowed window or already used", "login_error_invalid_tonce")


@dataclass(frozen=True)
class ApiKey:
    """One API key of an account. The secret stays out of `repr` so it cannot leak into logs."""

    key: str
    secret: str = field(repr=False)  # base64, as Mt.Gox handed it out
    rights: frozenset[str]
    account: str


def message_to_sign(version: int, path: str, body: bytes) -> bytes:
    """The bytes a client signs for a call of API `version`.

    For v2, `path` is the part after `/api/2/` (`BTCUSD/money/order/add`); a full path or a query
    string is tolerated and cut off, so the app cannot sign the wrong thing by passing the raw path.
    """
    if version in (0, 1):
        return body
    if version == 2:
        path = path.split("?", 1)[0]
        if path.startswith(_V2_PREFIX):
            path = path[len(_V2_PREFIX) :]
        return path.encode() + b"\0" + body
    raise ValueError(f"unknown API version {version!r} (expected 0, 1 or 2)")


def sign(secret_b64: str, message: bytes) -> str:
    """base64(HMAC-SHA512(base64decode(secret), message)), the Rest-Sign of `message`."""
    return base64.b64encode(_mac(base64.b64decode(secret_b64, validate=True), message)).decode("ascii")


def _mac(secret: bytes, message: bytes) -> bytes:
    return hmac.new(secret, message, hashlib.sha512).digest()


def load_keys(path: Path) -> list[ApiKey]:
    """Read a --keys file: `{"keys": [{"key", "secret", "rights", "account"}, ...]}`.

    Every problem raises KeysFileError with one line naming the file and the entry (counted from
    1). Messages name fields, never their values, because a value may be a secret.
    """
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise KeysFileError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        # orjson's message quotes no input, but the line number is all a user needs.
        raise KeysFileError(f"{path}: line {e.lineno} column {e.colno}: not valid JSON: {e.msg}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise KeysFileError(f'{path}: expected an object {{"keys": [...]}}')
    if not doc["keys"]:
        raise KeysFileError(f'{path}: "keys" is empty')
    keys: list[ApiKey] = []
    first_seen: dict[str, int] = {}
    for i, entry in enumerate(doc["keys"], start=1):
        key = _parse_entry(path, i, entry)
        if key.key in first_seen:
            raise KeysFileError(f"{path}: key #{i}: duplicate key (same as key #{first_seen[key.key]})")
        first_seen[key.key] = i
        keys.append(key)
    return keys


_FIELDS = ("key", "secret", "rights", "account")


def _parse_entry(path: Path, i: int, entry: object) -> ApiKey:
    where = f"{path}: key #{i}"
    if not isinstance(entry, dict):
        raise KeysFileError(f"{where}: expected an object with fields {', '.join(_FIELDS)}")
    missing = [f for f in _FIELDS if f not in entry]
    if missing:
        raise KeysFileError(f"{where}: missing field(s) {', '.join(missing)}")
    unknown = sorted(str(f) for f in entry if f not in _FIELDS)
    if unknown:
        raise KeysFileError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for name in ("key", "secret", "account"):
        if not isinstance(entry[name], str) or not entry[name].strip():
            raise KeysFileError(f"{where}: {name} must be a non-empty string")
    try:
        if not base64.b64decode(entry["secret"], validate=True):
            raise ValueError
    except (binascii.Error, ValueError):
        raise KeysFileError(f"{where}: secret is not valid base64") from None
    rights = entry["rights"]
    if not isinstance(rights, list) or not all(isinstance(r, str) for r in rights):
        raise KeysFileError(f"{where}: rights must be a list of strings")
    unknown_rights = sorted(set(rights) - RIGHTS)
    if unknown_rights:
        raise KeysFileError(
            f"{where}: unknown right(s) {', '.join(unknown_rights)} (known: {', '.join(sorted(RIGHTS))})"
        )
    return ApiKey(entry["key"], entry["secret"], frozenset(rights), entry["account"])


def default_keys(seed: int) -> list[ApiKey]:
    """Three keys derived from `seed`: alice trading, alice read-only (for a recorder), bob trading."""
    rng = random.Random(seed)

    def make(rights: Sequence[str], account: str) -> ApiKey:
        key = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        secret = base64.b64encode(rng.randbytes(64)).decode("ascii")
        return ApiKey(key, secret, frozenset(rights), account)

    return [
        make(("get_info", "trade", "deposit", "withdraw"), "alice"),
        make(("get_info",), "alice"),
        make(("get_info", "trade"), "bob"),
    ]


class Authenticator:
    """Verifies signed calls and keeps each key's nonce and recently used tonces.

    Not thread-safe: the app calls it from its event loop, where `verify` runs without interruption.
    Used tonces are forgotten once they have left the window, assuming `now_us` does not go back.
    """

    def __init__(self, keys: Sequence[ApiKey], tonce_window_us: int = 10_000_000) -> None:
        if tonce_window_us < 0:
            raise ValueError(f"tonce_window_us must be >= 0, got {tonce_window_us}")
        by_id: dict[str, ApiKey] = {}
        for k in keys:
            if k.key in by_id:
                raise ValueError(f"duplicate API key {k.key}")
            by_id[k.key] = k
        self._keys = by_id
        # Decoded once: verifying is on every private request.
        self._secrets = {k.key: base64.b64decode(k.secret, validate=True) for k in keys}
        self._window = tonce_window_us
        self._last_nonce: dict[str, int] = {}
        self._tonces: dict[str, set[int]] = {}
        self._tonce_heap: dict[str, list[int]] = {}

    @property
    def keys_by_id(self) -> Mapping[str, ApiKey]:
        return MappingProxyType(self._keys)

    def last_nonce(self, key: str) -> int | None:
        """The last accepted nonce of `key`, None before the first."""
        return self._last_nonce.get(key)

    def tonces_remembered(self, key: str) -> int:
        """How many used tonces of `key` are kept (those that could still be replayed)."""
        return len(self._tonces.get(key, ()))

    def verify(
        self,
        *,
        version: int,
        path: str,
        body: bytes,
        rest_key: str | None,
        rest_sign: str | None,
        params: Mapping[str, str],
        now_us: int,
        right: str,
    ) -> ApiKey:
        """The key of an acceptable call, or AuthError (HTTP 403) with Mt.Gox-style message and token."""
        if right not in RIGHTS:
            raise ValueError(f"unknown right {right!r}")
        if not rest_key:
            raise AuthError(*_MISSING_KEY)
        api_key = self._keys.get(rest_key)
        if api_key is None:
            raise AuthError(*_UNKNOWN_KEY)
        expected = _mac(self._secrets[rest_key], message_to_sign(version, path, body))
        if not hmac.compare_digest(expected, decode_signature(rest_sign)):
            raise AuthError(*_BAD_SIGN)

        name, value = _nonce_param(params)
        if name == "nonce":
            last = self._last_nonce.get(rest_key)
            if last is not None and value <= last:
                raise AuthError(*_STALE_NONCE)
        else:
            self._forget_old_tonces(rest_key, now_us)
            if abs(value - now_us) > self._window or value in self._tonces.get(rest_key, ()):
                raise AuthError(*_BAD_TONCE)

        if right not in api_key.rights:
            raise AuthError(f'This API key lacks the "{right}" right', "login_error_missing_right")

        if name == "nonce":
            self._last_nonce[rest_key] = value
        else:
            self._tonces.setdefault(rest_key, set()).add(value)
            heapq.heappush(self._tonce_heap.setdefault(rest_key, []), value)
        return api_key

    def _forget_old_tonces(self, key: str, now_us: int) -> None:
        # A tonce below now - window can never be accepted again, so remembering it is useless.
        heap = self._tonce_heap.get(key)
        if not heap:
            return
        used = self._tonces[key]
        while heap and heap[0] < now_us - self._window:
            used.discard(heapq.heappop(heap))


def decode_signature(rest_sign: str | None) -> bytes:
    # An empty result never equals a 64-byte digest, so anything undecodable fails the comparison.
    if not rest_sign:
        return b""
    try:
        return base64.b64decode(rest_sign, validate=True)
    except (binascii.Error, ValueError):
        return b""


def _nonce_param(params: Mapping[str, str]) -> tuple[str, int]:
    """("nonce" | "tonce", value): exactly one of them, a non-negative 64-bit integer in decimal."""
    present = [name for name in ("nonce", "tonce") if name in params]
    if len(present) != 1:
        raise AuthError(*_BAD_NONCE_FORMAT)
    name = present[0]
    value = params[name]
    # int() would also take " 12", "+12" and "1_2"; plain digits are what clients sent.
    if not isinstance(value, str) or not _DIGITS.fullmatch(value) or int(value) > NONCE_MAX:
        raise AuthError(*_BAD_NONCE_FORMAT)
    return name, int(value)
