"""Kraken's private-call authentication: API-Key, API-Sign and the nonce. Pure (no clock, no I/O).

API-Sign = base64(HMAC-SHA512(base64decode(secret), uri_path + SHA256(nonce + body))), uri_path being
`/0/private/<Method>` and body the exact form-encoded bytes sent (reference living-exchanges §0.1).
The nonce is "always increasing, unsigned 64-bit" per key.

Checks run cheapest trust first: key, signature, nonce, permission. `check` changes nothing, so a call
refused later (by the call counter) leaves the nonce where it was; `accept` records the nonce of a call
that is answered. Errors carry Kraken's exact strings, and no message ever names a secret or a signature.
The emulator's keys and rights are Mt.Gox's (`auth.ApiKey`): every query method needs `get_info`, the
right that on Kraken is "Query Funds", "Query Ledger Entries" and "Query Closed Orders & Trades".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .auth import ApiKey, decode_signature
from .errors import ApiError

NONCE_MAX = 2**64 - 1
_DIGITS = re.compile(r"[0-9]{1,20}")

INVALID_KEY = "EAPI:Invalid key"
INVALID_SIGNATURE = "EAPI:Invalid signature"
INVALID_NONCE = "EAPI:Invalid nonce"
PERMISSION_DENIED = "EGeneral:Permission denied"

# Method -> the Mt.Gox-style right a key needs for it.
RIGHTS = {"Balance": "get_info", "Ledgers": "get_info", "QueryLedgers": "get_info", "TradesHistory": "get_info",
          "QueryTrades": "get_info"}


def message(uri_path: str, nonce: str, body: bytes) -> bytes:
    """What the HMAC covers: the URI path, then SHA-256 of the nonce followed by the body."""
    return uri_path.encode() + hashlib.sha256(nonce.encode() + body).digest()


def api_sign(secret_b64: str, uri_path: str, nonce: str, body: bytes) -> str:
    """The API-Sign of a call."""
    mac = hmac.new(base64.b64decode(secret_b64, validate=True), message(uri_path, nonce, body), hashlib.sha512)
    return base64.b64encode(mac.digest()).decode("ascii")


@dataclass(frozen=True, slots=True)
class Verified:
    key: ApiKey
    nonce: int


class KrakenAuthenticator:
    """Verifies signed calls and keeps each key's last accepted nonce.

    Not thread-safe: the app calls it from its event loop, where a check and its accept run without
    interruption.
    """

    def __init__(self, keys: Sequence[ApiKey]) -> None:
        self._keys = {k.key: k for k in keys}
        # Decoded once: verifying is on every private request.
        self._secrets = {k.key: base64.b64decode(k.secret, validate=True) for k in keys}
        self._last_nonce: dict[str, int] = {}

    def last_nonce(self, key: str) -> int | None:
        return self._last_nonce.get(key)

    def check(self, *, uri_path: str, body: bytes, api_key: str | None, api_sign: str | None,
              params: Mapping[str, str], right: str) -> Verified:
        """The key and nonce of an acceptable call, or ApiError with Kraken's message; records nothing."""
        key = self._keys.get(api_key or "")
        if key is None:
            raise ApiError(INVALID_KEY)
        nonce_text = params.get("nonce", "")
        expected = hmac.new(self._secrets[key.key], message(uri_path, nonce_text, body), hashlib.sha512).digest()
        if not hmac.compare_digest(expected, decode_signature(api_sign)):
            raise ApiError(INVALID_SIGNATURE)
        if not _DIGITS.fullmatch(nonce_text) or int(nonce_text) > NONCE_MAX:
            raise ApiError(INVALID_NONCE)
        nonce = int(nonce_text)
        last = self._last_nonce.get(key.key)
        if last is not None and nonce <= last:
            raise ApiError(INVALID_NONCE)
        if right not in key.rights:
            raise ApiError(PERMISSION_DENIED)
        return Verified(key, nonce)

    def accept(self, verified: Verified) -> None:
        """Record the nonce of a call that is answered; the next must be greater."""
        last = self._last_nonce.get(verified.key.key)
        if last is None or verified.nonce > last:
            self._last_nonce[verified.key.key] = verified.nonce


