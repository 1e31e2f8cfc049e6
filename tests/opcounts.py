"""What a path costs the database, counted by SecantusDB itself (``serverStatus`` opcounters): tests
that say "this costs one write" or "this reads nothing" count with these helpers.

SecantusDB counts one operation per command: an ``insert_many`` of n documents is one insert, a
``bulk_write`` of n updates one update (bench/counters.py reports the same counters per round trip).
Counters are server-wide: a test counts the difference around what it does, after ``settled`` has
waited for background work of the hub (durable consumers, summary flushes) to stop moving them.
"""

from __future__ import annotations

import asyncio

from hub.storage.database import Db

READS = ("query", "getmore")
WRITES = ("insert", "update", "delete")
DATA = (*READS, *WRITES)


async def opcounters(db: Db) -> dict[str, int]:
    """The server's data operation counts so far, by kind (insert, query, update, delete, getmore)."""
    counters = (await db.client.admin.command("serverStatus"))["opcounters"]
    return {kind: int(counters[kind]) for kind in DATA}


async def count(db: Db, kinds: tuple[str, ...] = DATA) -> int:
    """The sum of ``kinds`` so far (``READS``, ``WRITES``, ``DATA`` or e.g. ``("update",)``)."""
    counters = await opcounters(db)
    return sum(counters[kind] for kind in kinds)


async def reads(db: Db) -> int:
    return await count(db, READS)


async def writes(db: Db) -> int:
    return await count(db, WRITES)


async def settled(db: Db, kinds: tuple[str, ...] = DATA, *, pause_s: float = 0.3, tries: int = 20) -> int:
    """The count of ``kinds`` once it stopped moving for ``pause_s`` (at most ``tries`` pauses): what
    is waited for is "nothing else reads or writes any more", which has no event of its own."""
    seen = await count(db, kinds)
    for _ in range(tries):
        await asyncio.sleep(pause_s)
        now = await count(db, kinds)
        if now == seen:
            return now
        seen = now
    return seen


def difference(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Per kind, what happened between two ``opcounters`` snapshots (kinds that moved only)."""
    return {kind: after[kind] - before[kind] for kind in DATA if after[kind] != before[kind]}
