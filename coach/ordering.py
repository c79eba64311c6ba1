"""Per-key ordering for async code: one lock per rep (or chat), alive only while used.

The engine orders one identity's turns, and each channel orders a rep's turn together with
the sending of its replies, so that a quick second message never overtakes the first. All
of them need the same thing: a lock per key that is created on demand and forgotten once no
task holds or waits on it (a weak-value map), so a million reps cost nothing at rest.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

__all__ = ["KeyedLocks"]

K = TypeVar("K", bound=Hashable)


class KeyedLocks(Generic[K]):
    """`async with locks.hold(key):` runs one holder of `key` at a time, in arrival order
    (asyncio.Lock is FIFO)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[K, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def lock(self, key: K) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    @asynccontextmanager
    async def hold(self, key: K) -> AsyncIterator[None]:
        lock = self.lock(key)  # a strong reference for as long as we hold or wait
        async with lock:
            yield
