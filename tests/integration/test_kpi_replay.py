"""The hub process is SIGKILLed in the middle of the scripted day (tests/integration/test_kpi_history.py)
while its projection has events left to apply, and started again: the projection rebuilt from the
event table and its checkpoint equals a replay of the whole day in one pass, no event is counted
twice, and the history API shows the figures computed by hand for the uninterrupted day."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from hub.admin import load_demo
from hub.kpi_intervals import replay
from hub.storage.database import Db
from hub.storage.directory import MongoDirectory
from hub.storage.eventlog import MongoCheckpoints, MongoEventSequence, MongoEventStream
from hub.storage.kpi_intervals import MongoKpiIntervals
from tests.clients import AgentClient
from tests.conftest import eventually
from tests.integration.test_kpi_history import (
    BY_AGENT,
    BY_CHANNEL,
    BY_QUEUE,
    DAY,
    DAY_TOTAL,
    NEXT_TOTAL,
    close,
    history,
    the_day,
    the_repeats,
)
from tests.processes import HubProcess


async def insert(db: Db, events: list[dict[str, Any]]) -> None:
    """Numbered by the real counter (a block of numbers drawn at once) and stored in one command, so
    the hub's consumer, reading three at a time, is certainly behind when it is killed."""
    last = await MongoEventSequence(db).draw(len(events))
    first = last - len(events) + 1
    await db["events"].insert_many([{**event, "seq": first + i} for i, event in enumerate(events)])


async def caught_up(db: Db) -> bool:
    last = await MongoEventStream(db).last()
    return last > 0 and (await MongoCheckpoints(db).load("kpi_intervals")).seq >= last


async def test_killing_the_hub_mid_day_and_replaying_leaves_the_same_figures(
        mongo_url: str, redis_url: str, redis: object, db_name: str, db: Db, directory: MongoDirectory,
        tmp_path: Path) -> None:
    await load_demo(directory)
    scripts = the_day() + the_repeats()
    await db["conversations"].insert_many([s.document() for s in scripts])
    day_events = sorted((e for s in scripts for e in s.events), key=lambda e: e["at"])
    noon = DAY + timedelta(hours=2)  # the morning's chats and SMS before, the calls and the next days after
    morning = [e for e in day_events if e["at"] < noon]
    rest = [e for e in day_events if e["at"] >= noon]
    assert morning and rest
    # Small batches and a slow poll: the projection takes many steps, so the kill finds it behind.
    hub = HubProcess(mongo_url=mongo_url, redis_url=redis_url, db_name=db_name, log_path=tmp_path / "hub.log",
                     consumers__batch="3", consumers__poll_s="0.5")
    checkpoints = MongoCheckpoints(db)
    try:
        await hub.start()
        await insert(db, morning)
        await eventually(lambda: caught_up(db), timeout=60)
        await insert(db, rest)
        behind = await MongoEventStream(db).last() - (await checkpoints.load("kpi_intervals")).seq
        hub.kill()
        assert behind > 0  # killed with the afternoon's events not yet (all) projected
        killed_at = (await checkpoints.load("kpi_intervals")).seq

        await hub.start()
        await eventually(lambda: caught_up(db), timeout=60)
        assert (await checkpoints.load("kpi_intervals")).seq > killed_at
        stored = await MongoKpiIntervals(db).all()
        events = await MongoEventStream(db).everything()
        assert stored == replay(events)  # the uninterrupted day's projection, in one pass
        async for doc in db["kpi_intervals"].find({}, {"applied": 1}):
            assert len(doc["applied"]) == len(set(doc["applied"])), doc["_id"]  # nothing counted twice

        sara = await AgentClient(hub.base_url).login("sara")
        try:
            by_day = await history(sara, **{"from": "2026-03-10", "to": "2026-03-11", "by": "day"})
            close(by_day[0], DAY_TOTAL)
            close(by_day[1], NEXT_TOTAL)
            for group, expected in (("queue", BY_QUEUE), ("channel", BY_CHANNEL), ("agent", BY_AGENT)):
                found = await history(sara, **{"from": "2026-03-10", "to": "2026-03-10", "group": group})
                assert {r[group] for r in found} == set(expected), group
                for row in found:
                    close(row, expected[row[group]])
        finally:
            await sara.close()
    finally:
        hub.stop()
