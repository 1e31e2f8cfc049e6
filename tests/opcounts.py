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
TOP_SECTIONS = ("queries", "getmore", "insert", "update", "remove", "commands")  # ``top``'s, per collection


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


async def by_collection(db: Db) -> dict[str, dict[str, int]]:
    """Commands so far per collection of ``db`` and ``top`` section (``queries``, ``insert``,
    ``update``, ``remove``, ...): which collection a path writes, not only how much."""
    totals = (await db.client.admin.command("top")).get("totals", {})
    prefix = f"{db.name}."
    return {ns[len(prefix):]: {section: int(sections[section]["count"]) for section in TOP_SECTIONS
                               if isinstance(sections.get(section), dict)}
            for ns, sections in totals.items() if ns.startswith(prefix) and isinstance(sections, dict)}


def collection_difference(before: dict[str, dict[str, int]],
                          after: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Per collection and section, what happened between two ``by_collection`` snapshots (what moved only)."""
    out: dict[str, dict[str, int]] = {}
    for collection, sections in after.items():
        for section, n in sections.items():
            moved = n - before.get(collection, {}).get(section, 0)
            if moved:
                out.setdefault(collection, {})[section] = moved
    return out


async def collection_writes(db: Db, collection: str) -> int:
    """Write commands (insert, update, remove) on one collection of ``db`` so far (``by_collection``)."""
    sections = (await by_collection(db)).get(collection, {})
    return sum(sections.get(kind, 0) for kind in ("insert", "update", "remove"))
