"""Nonces: the pure rule, then the store in one process on a temporary file (several processes: integration)."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.errors import StateError
from collector.nonce import NONCE_MAX, NonceStore, key_fingerprint, next_nonce, tonce

NOW_US = 1_365_000_000_000_000
HOUR_US = 3_600_000_000
KEY = "12345678-abcd-1234-abcd-50286e649d5c"
OTHER_KEY = "87654321-dcba-4321-dcba-c5d946e68205"


# --- the rule --------------------------------------------------------------------------------


def test_the_first_nonce_of_a_key_is_the_clock() -> None:
    assert next_nonce(None, NOW_US) == NOW_US


def test_a_clock_ahead_of_the_last_nonce_wins() -> None:
    assert next_nonce(NOW_US, NOW_US + 5) == NOW_US + 5


@pytest.mark.parametrize("now", [NOW_US, NOW_US - 1, NOW_US - HOUR_US, 0])
def test_a_clock_at_or_behind_the_last_nonce_gives_last_plus_one(now: int) -> None:
    assert next_nonce(NOW_US, now) == NOW_US + 1


def test_a_clock_stepped_back_an_hour_keeps_nonces_increasing_until_it_catches_up() -> None:
    last = None
    issued = []
    for now in [NOW_US, NOW_US + 10, NOW_US + 10 - HOUR_US, NOW_US + 20 - HOUR_US, NOW_US + 11, NOW_US + 100]:
        last = next_nonce(last, now)
        issued.append(last)
    assert issued == [NOW_US, NOW_US + 10, NOW_US + 11, NOW_US + 12, NOW_US + 13, NOW_US + 100]


def test_a_negative_clock_is_a_caller_bug() -> None:
    with pytest.raises(ValueError, match="now_us"):
        next_nonce(None, -1)
    with pytest.raises(ValueError, match="now_us"):
        tonce(-1)


def test_a_nonce_past_two_to_the_63_is_refused() -> None:
    assert next_nonce(NONCE_MAX - 1, 0) == NONCE_MAX
    with pytest.raises(ValueError, match="2\\^63"):
        next_nonce(NONCE_MAX, 0)


@given(st.lists(st.integers(0, 2**62), min_size=1, max_size=50))
def test_any_sequence_of_clock_readings_gives_strictly_increasing_nonces(clock: list[int]) -> None:
    last = None
    for now in clock:
        nonce = next_nonce(last, now)
        assert nonce >= now
        assert last is None or nonce > last
        last = nonce


def test_a_tonce_is_the_clock_itself() -> None:
    assert tonce(NOW_US) == NOW_US
    assert tonce(NOW_US - HOUR_US) == NOW_US - HOUR_US  # no floor: a tonce must stay within ±10 s of the exchange


def test_the_fingerprint_is_a_sha256_prefix_and_not_the_key() -> None:
    fp = key_fingerprint(KEY)
    assert fp == hashlib.sha256(KEY.encode()).hexdigest()[:16]
    assert fp != key_fingerprint(OTHER_KEY)
    assert KEY not in fp


# --- the store, one process ------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[NonceStore]:
    s = NonceStore(tmp_path / "state" / "nonces.sqlite")
    yield s
    s.close()


def test_take_persists_and_a_new_store_continues_after_a_restart(store: NonceStore) -> None:
    assert store.last(KEY) is None
    assert store.take(KEY, NOW_US) == NOW_US
    assert store.take(KEY, NOW_US) == NOW_US + 1
    store.close()
    with NonceStore(store.path) as again:
        assert again.last(KEY) == NOW_US + 1
        assert again.take(KEY, NOW_US - HOUR_US) == NOW_US + 2  # restarted with a clock an hour behind


def test_keys_are_independent(store: NonceStore) -> None:
    assert store.take(KEY, NOW_US) == NOW_US
    assert store.take(OTHER_KEY, NOW_US - 10) == NOW_US - 10
    assert store.take(OTHER_KEY, NOW_US - 10) == NOW_US - 9
    assert store.state() == {key_fingerprint(KEY): NOW_US, key_fingerprint(OTHER_KEY): NOW_US - 9}


def test_two_connections_on_one_file_share_the_sequence(store: NonceStore) -> None:
    with NonceStore(store.path) as other:
        a = store.take(KEY, NOW_US)
        b = other.take(KEY, NOW_US)
        c = store.take(KEY, NOW_US)
    assert (a, b, c) == (NOW_US, NOW_US + 1, NOW_US + 2)


def test_the_file_holds_fingerprints_never_the_key(store: NonceStore) -> None:
    for i in range(5):
        store.take(KEY, NOW_US + i)
    store.close()
    stored = b"".join(p.read_bytes() for p in store.path.parent.iterdir())
    assert KEY.encode() not in stored
    assert key_fingerprint(KEY).encode() in stored


def test_a_key_at_the_end_of_the_nonce_range_is_a_state_error(store: NonceStore) -> None:
    store.take(KEY, NONCE_MAX)
    with pytest.raises(StateError, match="2\\^63-1") as caught:
        store.take(KEY, NOW_US)
    assert str(store.path) in str(caught.value)
    assert KEY not in str(caught.value)
    assert store.last(KEY) == NONCE_MAX  # the failed take changed nothing
    assert store.take(OTHER_KEY, NOW_US) == NOW_US  # and left no transaction open behind it


def test_a_file_that_is_not_a_database_is_a_one_line_state_error(tmp_path: Path) -> None:
    path = tmp_path / "nonces.sqlite"
    path.write_bytes(b"this is not an sqlite file, it is some text " * 100)
    with pytest.raises(StateError) as caught:
        NonceStore(path).take(KEY, NOW_US)
    message = str(caught.value)
    assert message.startswith(f"{path}: cannot take a nonce: ")
    assert "\n" not in message


def test_a_directory_that_cannot_be_created_is_a_state_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(StateError, match="cannot take a nonce"):
        NonceStore(blocker / "state" / "nonces.sqlite").take(KEY, NOW_US)


def test_a_lock_held_too_long_by_another_process_is_a_state_error_naming_the_wait(store: NonceStore) -> None:
    store.take(KEY, NOW_US)
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        impatient = NonceStore(store.path, timeout_s=0.05)
        with pytest.raises(StateError, match=r"locked .*more than 0\.05 s"):
            impatient.take(KEY, NOW_US)
        impatient.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.take(KEY, NOW_US) == NOW_US + 1  # nothing was taken while the lock was held


def test_reading_never_creates_a_nonce(store: NonceStore) -> None:
    assert store.last(KEY) is None
    assert store.state() == {}
