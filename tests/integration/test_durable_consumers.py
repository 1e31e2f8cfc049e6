"""Durable consumers on a real SecantusDB (or mongod) and Redis: numbering, the seal, idempotent
projection writes, the runner at a hole, a reset, and two ``hub serve`` processes of which the
lease holder is SIGKILLed mid-stream: the stored projection equals the full replay of the table."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pymongo.errors import DuplicateKeyError
from redis.asyncio import Redis

from hub.admin import create_agent, load_demo
from hub.bootstrap import RunningHub
from hub.clock import SystemClock
from hub.consumers import ConsumerRegistry, DurableConsumers
from hub.domain.stream import StoredEvent
from hub.kpi_intervals import replay
from hub.leases import RedisLeases
from hub.projections import KpiIntervals
from hub.storage.database import Db, connect, ensure_indexes, increment
from hub.storage.directory import MongoDirectory
from hub.storage.eventlog import MongoCheckpoints, MongoEventSequence, MongoEventStream
from hub.storage.kpi_intervals import MongoKpiIntervals
from tests import opcounts
from tests.clients import AgentClient, WidgetClient
from tests.conftest import eventually
from tests.integration.test_cli import hub_cli
from tests.processes import HubProcess

T0 = datetime(2026, 3, 29, 0, 55, tzinfo=UTC)


def event_doc(cid: str, version: int, kind: str, source: str | None, target: str, after_s: float,
              **fields: Any) -> dict[str, Any]:
    return {"_id": f"{cid}:{version}", "conversation_id": cid, "version": version, "type": kind,
            "from_state": source, "to_state": target, "at": T0 + timedelta(seconds=after_s), "channel": "webchat",
            "queue": fields.get("queue"), "agent_id": fields.get("agent_id"), "actor": "test", "detail": {},
            "changes": {}}


def lifecycle(cid: str, start_s: float) -> list[dict[str, Any]]:
    return [event_doc(cid, 0, "created", None, "new", start_s),
            event_doc(cid, 1, "queued", "new", "queued", start_s + 1, queue="general"),
            event_doc(cid, 2, "offered", "queued", "offered", start_s + 2, queue="general", agent_id="alice"),
            event_doc(cid, 3, "assigned", "offered", "assigned", start_s + 9, queue="general", agent_id="alice"),
            event_doc(cid, 4, "resolved", "assigned", "resolved", start_s + 70, queue="general", agent_id="alice")]


@pytest.fixture
async def fresh_db(db: Db) -> Db:
    await ensure_indexes(db)
    return db


async def test_numbers_are_unique_a_lost_race_is_void_and_a_late_event_is_renumbered(fresh_db: Db) -> None:
    writers = [MongoEventSequence(fresh_db) for _ in range(4)]
    docs = [d for i in range(20) for d in lifecycle(f"c{i}", i)]
    await asyncio.gather(*(writers[i % 4].insert(d) for i, d in enumerate(docs)))
    numbers = [d["seq"] async for d in fresh_db["events"].find({}, {"seq": 1})]
    assert sorted(numbers) == list(range(1, 101))

    with pytest.raises(DuplicateKeyError):  # the version race lost: its number is void
        await writers[0].insert(docs[0])
    stream = MongoEventStream(fresh_db)
    assert await stream.voids(1, 200) == {101}

    late = MongoEventSequence(fresh_db, confirm_after_s=0)  # as if the insert had taken very long
    await stream.seal(102)  # a consumer gave up on the next number
    assert await late.insert(event_doc("late", 0, "created", None, "new", 0)) == 103
    assert (await fresh_db["events"].find_one({"_id": "late:0"}) or {})["seq"] == 103
    assert await stream.last() == 103


async def test_reading_after_a_number_passes_missing_numbers_and_stops_at_the_end(fresh_db: Db) -> None:
    # ``after`` reads (seq, seq + limit] first, then beyond (hub/storage/eventlog.py): missing numbers
    # inside or past that range never shorten a batch that more events could fill.
    numbers = [1, 2, 3, 5, 6, 9, 10, 11, 30]
    await fresh_db["events"].insert_many(
        [{**event_doc(f"c{n}", 0, "created", None, "new", n), "seq": n} for n in numbers])
    stream = MongoEventStream(fresh_db)

    async def seqs(after: int, limit: int) -> list[int]:
        return [e.seq for e in await stream.after(after, limit)]

    assert await seqs(0, 3) == [1, 2, 3]
    assert await seqs(0, 4) == [1, 2, 3, 5]
    assert await seqs(3, 2) == [5, 6]
    assert await seqs(6, 2) == [9, 10]
    assert await seqs(11, 5) == [30]
    assert await seqs(0, 100) == numbers
    assert await seqs(30, 10) == []


async def test_processes_creating_the_counter_at_once_all_get_numbers(mongo_url: str, db_name: str) -> None:
    # Each hub process has its own client: their first draws race on the counter's upsert (a
    # second hub died on this at start-up in CI).
    clients = [connect(mongo_url) for _ in range(6)]
    try:
        for attempt in range(5):
            counter = f"race{attempt}"
            drawn = await asyncio.gather(*(increment(c[db_name]["counters"], counter, 2)
                                           for c in clients for _ in range(3)))
            assert sorted(drawn) == list(range(2, 37, 2))
    finally:
        for c in clients:
            await c.close()


async def test_projection_writes_count_each_event_once(fresh_db: Db) -> None:
    sequence, stream, store = MongoEventSequence(fresh_db), MongoEventStream(fresh_db), MongoKpiIntervals(fresh_db)
    for doc in [d for i in range(6) for d in lifecycle(f"c{i}", i * 300)]:
        await sequence.insert(doc)
    events = await stream.after(0, 1000)
    projection = KpiIntervals(stream, store)
    for start, size in ((0, 7), (0, 7), (5, 11), (3, 30)):  # repeated and overlapping batches
        await projection.handle(events[start:start + size])
    assert await store.all() == replay(events)
    await projection.reset()
    assert await store.all() == {}


@contextlib.asynccontextmanager
async def runner(db: Db, redis: Redis, *, gap_timeout_s: float) -> AsyncIterator[DurableConsumers]:
    stream = MongoEventStream(db)
    registry = ConsumerRegistry()
    registry.register(KpiIntervals(stream, MongoKpiIntervals(db)))
    async with DurableConsumers(registry, stream=stream, checkpoints=MongoCheckpoints(db),
                                exclusive=RedisLeases(redis, ttl_s=2), clock=SystemClock(), holder="test",
                                batch=4, poll_s=0.1, gap_timeout_s=gap_timeout_s) as running:
        yield running


class BatchLog:
    """A durable consumer that keeps the batches it was handed (their event ids)."""

    name = "batch_log"

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def handle(self, batch: Sequence[StoredEvent]) -> None:
        self.batches.append([event.id for event in batch])

    async def reset(self) -> None:
        self.batches.clear()


async def test_a_burst_of_transitions_is_read_as_one_batch_not_one_per_wake_up(fresh_db: Db, redis: Redis) -> None:
    """Every transition wakes the consumers (the bus); with ``gather_s`` they let the burst arrive
    and read it at once: one read of the table and one checkpoint write, not one per event."""
    sequence, stream, log = MongoEventSequence(fresh_db), MongoEventStream(fresh_db), BatchLog()
    registry = ConsumerRegistry()
    registry.register(log)
    async with DurableConsumers(registry, stream=stream, checkpoints=MongoCheckpoints(fresh_db),
                                exclusive=RedisLeases(redis, ttl_s=2), clock=SystemClock(), holder="test",
                                batch=500, poll_s=30, gather_s=1.0) as running:
        await eventually(lambda: _holds(fresh_db, "batch_log"), timeout=5)
        docs = [d for i in range(5) for d in lifecycle(f"burst{i}", i)]
        for doc in docs:  # 25 transitions, each announced on the bus as it is stored
            await sequence.insert(doc)
            running.wake()
        await eventually(lambda: _equals(checkpoint(fresh_db, "batch_log"), len(docs)), timeout=5)
    assert [event_id for batch in log.batches for event_id in batch] == [d["_id"] for d in docs]
    assert len(log.batches) <= 3, [len(b) for b in log.batches]


class NamedLog(BatchLog):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


async def test_idle_consumers_cost_two_reads_per_look_however_many_and_unannounced_events_are_taken(
        fresh_db: Db, redis: Redis) -> None:
    """Six consumers, no bus: one shared look per ``poll_s`` reads the last number drawn and the
    checkpoints (two reads, not two per consumer); a reset requested from outside is done at the
    next look, and an event nobody announced is taken by every consumer."""
    sequence, stream = MongoEventSequence(fresh_db), MongoEventStream(fresh_db)
    logs = [NamedLog(f"log{n}") for n in range(6)]
    registry = ConsumerRegistry()
    for log in logs:
        registry.register(log)
    await sequence.insert(lifecycle("idle0", 0)[0])
    async with DurableConsumers(registry, stream=stream, checkpoints=MongoCheckpoints(fresh_db),
                                exclusive=RedisLeases(redis, ttl_s=2), clock=SystemClock(), holder="test",
                                batch=500, poll_s=0.2) as running:
        for log in logs:
            await eventually(lambda log=log: _equals(checkpoint(fresh_db, log.name), 1), timeout=10)
        looks, reads = running.looks, await opcounts.reads(fresh_db)
        await eventually(lambda: running.looks >= looks + 5, timeout=10)
        looked, read = running.looks - looks, await opcounts.reads(fresh_db) - reads
        assert read <= 2 * (looked + 1), f"{read} reads in {looked} looks of six idle consumers"

        await MongoCheckpoints(fresh_db).request_reset("log3")  # as `hub consumers reset` does
        await eventually(lambda: _reset_and_replayed(fresh_db, "log3"), timeout=10)
        assert logs[3].batches == [["idle0:0"]], "the reset dropped what it had and replayed from the start"

        later = lifecycle("idle1", 10)[:2]
        for doc in later:  # stored without a wake-up: as if its fact were lost
            await sequence.insert(doc)
        for log in logs:
            await eventually(lambda log=log: _equals(checkpoint(fresh_db, log.name), 3), timeout=10)
    assert all(log.batches[-1] == [d["_id"] for d in later] for log in logs)


async def _reset_and_replayed(db: Db, name: str) -> bool:
    point = await MongoCheckpoints(db).load(name)
    return not point.reset_requested and point.seq == 1


async def _holds(db: Db, name: str) -> bool:
    return (await MongoCheckpoints(db).load(name)).holder == "test"


async def checkpoint(db: Db, name: str = "kpi_intervals") -> int:
    return (await MongoCheckpoints(db).load(name)).seq


async def test_the_runner_waits_at_a_hole_seals_it_and_takes_the_late_event(fresh_db: Db, redis: Redis) -> None:
    sequence, stream = MongoEventSequence(fresh_db, confirm_after_s=0.5), MongoEventStream(fresh_db)
    first, second = lifecycle("a", 0), lifecycle("b", 100)
    for doc in first:
        await sequence.insert(doc)
    in_flight = await sequence.draw()  # a writer drew 6 and has not stored its event yet
    for doc in second:
        await sequence.insert(doc)
    async with runner(fresh_db, redis, gap_timeout_s=1.0):
        # Batches of 4: the checkpoint passes 4 on its way; it stops at 5, before the hole.
        await eventually(lambda: _equals(checkpoint(fresh_db), 5), timeout=5)
        await eventually(lambda: stream.sealed(), timeout=5)  # then seals it and goes on
        await eventually(lambda: _equals(checkpoint(fresh_db), 11), timeout=5)
        # The writer of 6 stores it now, late: its confirmation sees the seal and renumbers it.
        late = event_doc("c", 0, "created", None, "new", 500)
        await fresh_db["events"].insert_one({**late, "seq": in_flight})
        renumbered = await sequence.draw()
        await fresh_db["events"].update_one({"_id": late["_id"], "seq": in_flight}, {"$set": {"seq": renumbered}})
        await eventually(lambda: _equals(checkpoint(fresh_db), 12), timeout=5)
    assert await MongoKpiIntervals(fresh_db).all() == replay(await stream.everything())


async def _equals(value: Any, expected: int) -> bool:
    return bool(await value == expected)


async def test_hub_consumers_reset_rebuilds_the_projection_in_the_running_hub(
        hub: RunningHub, mongo_url: str, db_name: str, db: Db) -> None:
    async with aiohttp.ClientSession() as http:
        for n in range(3):
            widget = WidgetClient(hub.base_url, http)
            await widget.connect()
            await widget.say(f"customer {n}")
            await widget.close()
    stream, checkpoints = MongoEventStream(db), MongoCheckpoints(db)
    await eventually(lambda: _caught_up(stream, checkpoints))
    before = await MongoKpiIntervals(db).all()
    assert before == replay(await stream.everything()) != {}
    await db["kpi_intervals"].update_many({}, {"$inc": {"c.offered": 100}})  # a projection gone wrong

    done = hub_cli(mongo_url, db_name, "consumers", "reset", "kpi_intervals")
    assert done.returncode == 0, done.stderr
    await eventually(lambda: _rebuilt(db, before))
    listed = hub_cli(mongo_url, db_name, "consumers", "list")
    assert listed.returncode == 0, listed.stderr
    row = next(line.split() for line in listed.stdout.splitlines() if line.startswith("kpi_intervals"))
    assert row[:3] == ["kpi_intervals", str(await stream.last()), "0"], listed.stdout
    assert hub_cli(mongo_url, db_name, "consumers", "reset", "nothing").returncode != 0


async def _caught_up(stream: MongoEventStream, checkpoints: MongoCheckpoints) -> bool:
    last = await stream.last()
    return last > 0 and (await checkpoints.load("kpi_intervals")).seq >= last


async def _rebuilt(db: Db, expected: dict[Any, Any]) -> bool:
    point = await MongoCheckpoints(db).load("kpi_intervals")
    return not point.reset_requested and await MongoKpiIntervals(db).all() == expected


# --- two hub processes, the lease holder SIGKILLed mid-stream ------------------------------------------

AGENTS = 4


class Traffic:
    """Customers and agents on one hub process: conversations queued, offered, declined, accepted,
    transferred, wrapped up and resolved, until stopped or the process dies."""

    def __init__(self, hub: HubProcess, agents: list[str], seed: int) -> None:
        self.hub, self.agents, self.random = hub, agents, random.Random(seed)
        self.customers = 0
        self.tasks: list[asyncio.Task[None]] = []
        self.consoles: list[AgentClient] = []

    async def start(self, http: aiohttp.ClientSession) -> Traffic:
        for username in self.agents:
            console = await AgentClient.online(self.hub.base_url, username)
            self.consoles.append(console)
            self.tasks.append(asyncio.create_task(self._work(console)))
        self.tasks.append(asyncio.create_task(self._customers(http)))
        return self

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for console in self.consoles:
            with contextlib.suppress(Exception):  # the process may be dead
                await console.call("POST", "/api/me/status", {"status": "offline"})
            await console.close()

    async def _customers(self, http: aiohttp.ClientSession) -> None:
        with contextlib.suppress(ConnectionError, aiohttp.ClientError, TimeoutError):
            for n in itertools.count():
                widget = WidgetClient(self.hub.base_url, http)
                await widget.connect()
                await widget.say(f"customer {n} needs help")  # acknowledged: the conversation is queued
                self.customers += 1
                await widget.close()

    async def _work(self, console: AgentClient) -> None:
        with contextlib.suppress(ConnectionError, aiohttp.ClientError, TimeoutError):
            while True:
                offer = await console.next("offer", timeout=60)
                cid, queue = offer["conversation"]["id"], offer["conversation"].get("queue")
                with contextlib.suppress(AssertionError):  # 409: the offer expired, another process moved it
                    roll = self.random.random()
                    if roll < 0.15:
                        await console.call("POST", f"/api/conversations/{cid}/decline")
                        continue
                    await console.call("POST", f"/api/conversations/{cid}/accept")
                    if roll < 0.3 and queue == "general":
                        await console.call("POST", f"/api/conversations/{cid}/transfer", {"queue": "billing"})
                    elif roll < 0.6:
                        await console.call("POST", f"/api/conversations/{cid}/wrap_up",
                                           {"code": "resolved_first_contact"})
                        await console.call("POST", f"/api/conversations/{cid}/resolve")
                    else:
                        await console.call("POST", f"/api/conversations/{cid}/resolve")


async def test_sigkill_of_the_lease_holder_leaves_the_projection_equal_to_a_full_replay(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, db: Db, directory: MongoDirectory,
        tmp_path: Path) -> None:
    await load_demo(directory)
    names = [f"worker{i}" for i in range(AGENTS)]
    for name in names:
        await create_agent(directory, username=name, display_name=name, role="agent", password="northgrid-demo",
                           skills=["general", "billing"], capacity={"webchat": 3})
    settings = {"lease_ttl_s": "2", "consumers__batch": "5", "consumers__poll_s": "0.2", "routing__tick_s": "0.05",
                "routing__offer_timeout_s": "3", "webchat__rate_per_minute": "100000"}
    hubs = [HubProcess(mongo_url=mongo_url, redis_url=redis_url, db_name=db_name, log_path=tmp_path / f"hub{i}.log",
                       **settings) for i in range(2)]
    stream, checkpoints = MongoEventStream(db), MongoCheckpoints(db)
    traffic: list[Traffic] = []
    try:
        await asyncio.gather(*(h.start() for h in hubs))
        async with aiohttp.ClientSession() as http:
            traffic = [await Traffic(h, names[i::2], seed=i).start(http) for i, h in enumerate(hubs)]
            await eventually(lambda: _checkpoint_at_least(checkpoints, 40), timeout=60)
            holder = (await checkpoints.load("kpi_intervals")).holder or ""
            victim = next(i for i, h in enumerate(hubs) if h.process and holder.endswith(f":{h.process.pid}"))
            survivor = hubs[1 - victim]
            behind_at_kill = await stream.last() - (await checkpoints.load("kpi_intervals")).seq
            hubs[victim].kill()
            await traffic[victim].stop()
            killed_at = (await checkpoints.load("kpi_intervals")).seq

            async def taken_over() -> bool:
                point = await checkpoints.load("kpi_intervals")
                assert survivor.process is not None
                return bool(point.holder and point.holder.endswith(f":{survivor.process.pid}")
                            and point.seq > killed_at)

            await eventually(taken_over, timeout=30)
            await hubs[victim].start()  # and the killed one comes back into the stream
            traffic[victim] = await Traffic(hubs[victim], names[victim::2], seed=7).start(http)
            more = traffic[victim].customers + traffic[1 - victim].customers + 30
            await eventually(lambda: traffic[0].customers + traffic[1].customers >= more, timeout=60)
            for t in traffic:
                await t.stop()

            async def settled() -> tuple[dict[Any, Any], list[StoredEvent]] | None:
                last = await stream.last()
                if (await checkpoints.load("kpi_intervals")).seq < last:
                    return None
                stored, events = await MongoKpiIntervals(db).all(), await stream.everything()
                return (stored, events) if await stream.last() == last else None

            stored, events = await eventually(settled, timeout=60)
    finally:
        for t in traffic:
            with contextlib.suppress(Exception):
                await t.stop()
        for h in hubs:
            h.stop()
    assert behind_at_kill >= 0
    assert len({e.conversation_id for e in events}) >= 40
    expected = replay(events)
    assert stored == expected
    totals = {k: sum(c.get(k, 0) for b, c in expected.items() if not b.agent) for k in ("offered", "answered")}
    assert totals["answered"] >= 20 and totals["offered"] >= totals["answered"]


async def _checkpoint_at_least(checkpoints: MongoCheckpoints, seq: int) -> bool:
    return (await checkpoints.load("kpi_intervals")).seq >= seq
