"""The collector's exceptions.

    CollectorError                 anything the collector raises on purpose
    ├── ConfigError                a bad configuration file or option (one line, CLI exit 2)
    ├── CredentialsError           missing secret, or a secret file others can read
    ├── StoreError                 the journal or raw store cannot be written or read
    │   └── CorruptFileError       a file that is damaged beyond the torn tail a crash leaves
    ├── StateError                 the state database (cursors, nonces, budget) is unusable
    ├── DiskFull                   no space for a write (ENOSPC, EDQUOT, SQLITE_FULL): what it wrote is not
    │                              acknowledged; the collector pauses and retries once space returns
    └── ExchangeError              an answer the exchange gave that the caller must act on
        ├── RateLimited            429 or an anti-DDoS page: back off for `retry_after_s`
        └── AuthFailed             403 for a private call: wrong key, signature or nonce

Foreign exceptions (httpx, pyarrow, sqlite3, OSError) are translated at the module that
touches them; nothing above that boundary sees them.
"""

from __future__ import annotations


class CollectorError(Exception):
    """Base of everything the collector raises on purpose."""


class ConfigError(CollectorError):
    """A configuration problem, described in one line that names the file and the key."""


class CredentialsError(ConfigError):
    """Credentials that are missing or unsafe (a secret file readable by others)."""


class StoreError(CollectorError):
    """The journal or the raw store failed."""


class CorruptFileError(StoreError):
    """A journal segment, Parquet file or manifest that cannot be trusted."""


class StateError(CollectorError):
    """The state database cannot be opened or written."""


class DiskFull(CollectorError):
    """A write refused for lack of space. Not a StoreError nor a StateError: it is the disk's condition, not
    the file's, it passes once space is freed, and the journal, the raw store and the state files all meet it."""

    def __init__(self, message: str, path: str, reason: str) -> None:
        super().__init__(message)
        self.path = path  # the file or directory that could not be written
        self.reason = reason  # the system's words, e.g. "No space left on device"


class ExchangeError(CollectorError):
    """An exchange answer that changes what the collector does next."""


class RateLimited(ExchangeError):
    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class AuthFailed(ExchangeError):
    """A private call refused with 403."""
