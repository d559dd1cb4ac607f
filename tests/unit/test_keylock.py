"""The per-key lock: private calls of one key, one at a time, across processes (here: two open files)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from collector.keylock import KeyLock


def test_a_second_holder_of_the_same_key_waits_until_the_first_lets_go(tmp_path: Path) -> None:
    order: list[str] = []

    async def main() -> None:
        first, second = KeyLock(tmp_path, "key"), KeyLock(tmp_path, "key")  # two opens: as two processes

        async def hold(lock: KeyLock, name: str, seconds: float) -> None:
            async with lock.held():
                order.append(f"{name} in")
                await asyncio.sleep(seconds)
                order.append(f"{name} out")

        a = asyncio.create_task(hold(first, "a", 0.05))
        await asyncio.sleep(0.01)
        await asyncio.gather(a, hold(second, "b", 0))
        first.close()
        second.close()

    asyncio.run(main())
    assert order == ["a in", "a out", "b in", "b out"]


def test_other_keys_do_not_wait_and_the_file_name_does_not_show_the_key(tmp_path: Path) -> None:
    order: list[str] = []

    async def main() -> None:
        one, other = KeyLock(tmp_path, "key-one"), KeyLock(tmp_path, "key-two")
        async with one.held(), other.held():
            order.append("both")
        one.close()
        other.close()

    asyncio.run(main())
    assert order == ["both"]
    assert all("key-one" not in p.name and "key-two" not in p.name for p in tmp_path.iterdir())
