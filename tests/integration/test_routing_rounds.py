"""Assignment rounds that decide many offers from one snapshot and commit them together, against
real Redis and MongoDB: exactly once and within capacity when rounds race (in one process and in
two hub processes), one bad conversation in a batch failing alone, and the policy's fairness."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.clock import to_ms
from hub.domain.events import EventType
from hub.domain.ids import AgentStatus, ConversationId, Skill
from hub.domain.moves import Move
from hub.domain.states import ConversationState
from hub.storage.database import Db
from hub.storage.directory import MongoDirectory
from hub.storage.transition_batch import MongoTransitionBatch
from hub.tasks import cancel_and_wait
from routing.policy import WaitingConversation
from routing.store import EPOCH, P, RedisRoutingStore, agent_key, queue_key
from tests.conftest import eventually, make_settings
from tests.processes import HubProcess

S = ConversationState
QUEUE = "general"
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


async def seed(db: Db, count: int, *, prefix: str = "c_r", first: datetime = START) -> list[str]:
    """``count`` conversations left queued in ``general`` (as the conversation core leaves them),
    each one second younger than the one before: ``<prefix>000`` waited longest."""
    ids, docs, events = [], [], []
    for i in range(count):
        cid, queued_at = f"{prefix}{i:03d}", first + timedelta(seconds=i)
        ids.append(cid)
        docs.append({"_id": cid, "contact_id": f"k_{cid}", "contact_name": "Round customer", "channel": "webchat",
                     "state": "queued", "version": 1, "queue": QUEUE, "priority": 0, "skills": ["general"],
                     "agent_id": None, "created_at": queued_at, "updated_at": queued_at, "queued_at": queued_at,
                     "language": "en", "preview": "", "unread": 0})
        for version, kind, frm, to in ((0, "created", None, "new"), (1, "queued", "new", "queued")):
            events.append({"_id": f"{cid}:{version}", "conversation_id": cid, "version": version, "type": kind,
                           "from_state": frm, "to_state": to, "at": queued_at, "channel": "webchat", "queue": QUEUE,
                           "agent_id": None, "actor": "system", "detail": {}, "changes": {}})
    if docs:
        await db["conversations"].insert_many(docs)
        await db["events"].insert_many(events)
    return ids


async def enqueue(store: RedisRoutingStore, ids: list[str], *, first: datetime = START) -> None:
    for i, cid in enumerate(ids):
        await store.enqueue(WaitingConversation(conversation_id=cid, channel="webchat",
                                                skills=frozenset({Skill("general")}), priority=0,
                                                queued_ms=to_ms(first + timedelta(seconds=i))), QUEUE)


async def online(store: RedisRoutingStore, count: int, capacity: int, *, prefix: str = "a_r") -> list[str]:
    agents = [f"{prefix}{i:02d}" for i in range(count)]
    for aid in agents:
        await store.put_presence(aid, status=AgentStatus.AVAILABLE, skills=frozenset({Skill("general")}),
                                 capacity={"webchat": capacity}, now_ms=to_ms(datetime.now(UTC)))
    return agents


async def check_exactly_once(db: Db, redis: Redis, ids: list[str], capacity: int) -> dict[str, int]:
    """No conversation offered twice, Mongo and Redis agree, nobody over capacity; the loads."""
    store = RedisRoutingStore(redis)
    offered = collections.Counter(e["conversation_id"] for e in await db["events"].find(
        {"type": "offered", "conversation_id": {"$in": ids}}).to_list(None))
    assert max(offered.values(), default=0) <= 1
    holders = {d["_id"]: d["agent_id"] async for d in db["conversations"].find({"state": "offered"})}
    assert set(holders) == set(offered)
    loads = {a.agent_id: a.load_on("webchat") for a in await store.agents()}
    assert all(load <= capacity for load in loads.values()), loads
    assert collections.Counter(holders.values()) == collections.Counter(
        {a: n for a, n in loads.items() if n}), "Redis loads are not the offers MongoDB holds"
    for cid, agent in holders.items():
        assert (await store.offer_of(cid)).agent_id == agent  # type: ignore[union-attr]
    waiting = {m.decode() for m in await redis.zrange(queue_key(QUEUE), 0, -1)}
    assert waiting.isdisjoint(holders) and waiting | set(holders) == set(ids)
    return loads


@contextlib.asynccontextmanager
async def quiet_hub(db_name: str, mongo_url: str, redis_url: str) -> AsyncIterator[RunningHub]:
    """A hub whose own assigner is stopped once Redis is initialised: the test runs the rounds."""
    settings = make_settings(db_name, offer_timeout_s=600.0, presence_ttl_s=600.0, tick_s=0.05)
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as hub:
        await eventually(hub.routing._store.epoch)
        # cancel_and_wait cancels until done: on 3.11 a cancel that meets the tick's asyncio.timeout
        # expiring is swallowed, and the assigner went on waiting for its next kick.
        for task in [t for t in asyncio.all_tasks() if t.get_name() == "routing:assigner"]:
            await cancel_and_wait(task)
        yield hub


async def test_rounds_racing_in_one_process_offer_each_conversation_once_within_capacity(
        mongo_url: str, redis_url: str, redis: Redis, db: Db, db_name: str, directory: MongoDirectory) -> None:
    await load_demo(directory)
    async with asyncio.timeout(240), quiet_hub(db_name, mongo_url, redis_url) as one, \
            quiet_hub(db_name, mongo_url, redis_url) as two:
        store = RedisRoutingStore(redis)
        ids = await seed(db, 240)
        await enqueue(store, ids)
        made = 0
        # Agents arrive in waves; after each, both hubs run a round at the same moment on the same
        # snapshot, so their plans collide and the claims decide.
        for wave in range(6):
            await online(store, 6, 5, prefix=f"a_w{wave}_")
            made += sum(await asyncio.gather(one.routing.assign_round(), two.routing.assign_round()))
        loads = await check_exactly_once(db, redis, ids, capacity=5)
        assert made == sum(loads.values()) == 180  # 36 agents x 5 seats; 60 conversations still wait
        # The 180 who waited longest were served.
        assert set(await db["conversations"].distinct("_id", {"state": "offered"})) == set(ids[:180])


async def test_two_hub_processes_racing_rounds_never_offer_twice_or_overfill(
        mongo_url: str, redis_url: str, redis: Redis, db: Db, db_name: str, directory: MongoDirectory,
        tmp_path: Path) -> None:
    await load_demo(directory)
    ids = await seed(db, 300)  # in MongoDB only: the first hub up rebuilds Redis from it
    hubs = [HubProcess(mongo_url=mongo_url, redis_url=redis_url, db_name=db_name, log_path=tmp_path / f"hub{i}.log",
                       routing__tick_s="0.02", routing__offer_timeout_s="600", routing__presence_ttl_s="600")
            for i in range(2)]
    try:
        await asyncio.gather(*(h.start() for h in hubs))
        store = RedisRoutingStore(redis)
        await eventually(lambda: _queued_in_redis(redis, 300), timeout=60)
        for wave in range(8):  # seats appear while both assigners tick every 20 ms
            await online(store, 5, 5, prefix=f"a_p{wave}_")
        try:
            await eventually(lambda: _offered_in_mongo(db, 200), timeout=90)
        except AssertionError as missing:  # what a rare failure needs to be understood, in its report
            raise AssertionError(await _where_they_are(db, redis, [h.log_path for h in hubs])) from missing
        await check_exactly_once(db, redis, ids, capacity=5)
        assert await db["conversations"].count_documents({"state": "offered"}) == 200
    finally:
        for h in hubs:
            h.stop()
    offered_by = [_offers_logged(h.log_path) for h in hubs]
    assert sum(offered_by) == 200, offered_by


async def _where_they_are(db: Db, redis: Redis, logs: list[Path]) -> str:
    """The conversations by state in MongoDB, the line in Redis and what the hubs warned about."""
    states = collections.Counter([d["state"] async for d in db["conversations"].find({}, {"state": 1})])
    warned = [line for log in logs for line in log.read_text().splitlines()
              if " WARNING " in line or " ERROR " in line or "routing.offer." in line]
    return (f"offered in MongoDB: {states.get('offered', 0)} of 200; states {dict(states)}; "
            f"waiting in Redis: {int(await redis.zcard(queue_key(QUEUE)))}; hubs warned:\n" + "\n".join(warned[-40:]))


def _offers_logged(log: Path) -> int:
    return log.read_text().count("routing.offered ")


async def _queued_in_redis(redis: Redis, count: int) -> bool:
    return int(await redis.zcard(queue_key(QUEUE))) == count


async def _offered_in_mongo(db: Db, count: int) -> bool:
    return await db["conversations"].count_documents({"state": "offered"}) >= count


async def test_no_process_sweeps_or_offers_while_another_rebuilds_the_state(
        mongo_url: str, redis_url: str, redis: Redis, db: Db, db_name: str, directory: MongoDirectory) -> None:
    """A rebuild starts by clearing every routing key: what another process swept into line, claimed
    or offered meanwhile was gone from Redis while MongoDB kept it (two hubs starting together lost
    agents' seats and offers so). A process waits while another holds the rebuild's lock."""
    await load_demo(directory)
    async with quiet_hub(db_name, mongo_url, redis_url) as hub:
        store = RedisRoutingStore(redis)
        ids = await seed(db, 6)  # queued in MongoDB only, long ago: a sweep puts them in line
        await redis.delete(EPOCH)  # Redis lost the routing state and another process rebuilds it
        await redis.set(P + "rebuild-lock", "another-process", ex=60)
        await online(store, 2, 5)
        assert not await hub.routing.step()
        assert await redis.zcard(queue_key(QUEUE)) == 0, "swept while another process rebuilt"
        assert await db["conversations"].count_documents({"state": "offered"}) == 0
        assert await redis.get(P + "rebuild-lock") == b"another-process"

        await redis.delete(P + "rebuild-lock")  # that process died before it finished: this one rebuilds
        assert await hub.routing.step()
        assert await redis.exists(EPOCH)
        assert await redis.zcard(queue_key(QUEUE)) == 6
        await online(store, 2, 5)  # presence comes back with the agents' next heartbeats
        assert await hub.routing.step()
        loads = await check_exactly_once(db, redis, ids, capacity=5)
        assert sum(loads.values()) == 6


async def test_a_bad_conversation_in_a_round_fails_alone(
        mongo_url: str, redis_url: str, redis: Redis, db: Db, db_name: str, directory: MongoDirectory) -> None:
    await load_demo(directory)
    async with quiet_hub(db_name, mongo_url, redis_url) as hub:
        store = RedisRoutingStore(redis)
        ids = await seed(db, 8)
        ghost = "c_rghost"  # waits in Redis, but MongoDB has no such conversation
        await enqueue(store, [*ids[:4], ghost, *ids[4:]])
        # Moved on in MongoDB since it was queued (resolved while waiting), and a damaged document.
        await db["conversations"].update_one({"_id": ids[1]}, {"$set": {"state": "resolved", "version": 2}})
        await db["conversations"].update_one({"_id": ids[5]}, {"$unset": {"channel": ""}})
        await online(store, 2, 10)
        made = await hub.routing.assign_round()
        good = [ids[i] for i in (0, 2, 3, 4, 6, 7)]
        assert made == len(good)
        offered = {d["_id"] async for d in db["conversations"].find({"state": "offered"})}
        assert offered == set(good)
        for bad in (ids[1], ids[5], ghost):
            assert await store.offer_of(bad) is None
            assert await redis.zscore(queue_key(QUEUE), bad) is None  # forgotten; the sweep re-reads MongoDB
            assert await db["events"].count_documents({"conversation_id": bad, "type": "offered"}) == 0
        loads = [int(await redis.hget(agent_key(a), "load:webchat") or 0) for a in ("a_r00", "a_r01")]
        assert sum(loads) == len(good)
        seqs = [e["seq"] async for e in db["events"].find({"type": "offered"})]
        assert len(seqs) == len(set(seqs)) == len(good)


async def test_a_batch_stores_the_good_moves_beside_a_lost_version_race(db: Db) -> None:
    ids = await seed(db, 3, prefix="c_b")
    # Another writer stored version 2 of the middle one first (its projection not yet moved).
    await db["events"].insert_one({"_id": f"{ids[1]}:2", "conversation_id": ids[1], "version": 2,
                                   "type": "abandoned", "from_state": "queued", "to_state": "abandoned",
                                   "at": START, "channel": "webchat", "seq": 10**9})
    moves = [Move(conversation_id=ConversationId(cid), source=S.QUEUED, target=S.OFFERED,
                  event_type=EventType.OFFERED, actor="routing", changes={"agent_id": "a_x"}) for cid in ids]
    moves.append(moves[0])  # the same conversation twice in one batch: the second is refused
    stored = await MongoTransitionBatch(db).apply(moves, at=START + timedelta(minutes=1))
    assert [s.refused for s in stored] == [None, "conflict", None, "conflict"]
    assert [(s.after or {}).get("state") for s in stored] == ["offered", None, "offered", None]
    docs = {d["_id"]: d async for d in db["conversations"].find({})}
    assert docs[ids[1]]["state"] == "queued" and docs[ids[0]]["agent_id"] == "a_x"
    voided = await db["event_voids"].count_documents({"event_id": f"{ids[1]}:2"})
    assert voided == 1  # its drawn number is passed at once by durable consumers


async def test_a_round_serves_the_longest_waiting_first_to_the_longest_idle_agent(
        mongo_url: str, redis_url: str, redis: Redis, db: Db, db_name: str, directory: MongoDirectory) -> None:
    await load_demo(directory)
    async with quiet_hub(db_name, mongo_url, redis_url) as hub:
        store = RedisRoutingStore(redis)
        ids = await seed(db, 3)
        await enqueue(store, ids)
        recent, idle = "a_recent", "a_idle"
        for aid, last in ((recent, 5_000), (idle, 1_000)):  # idle since longer = smaller last_assigned
            await redis.hset(agent_key(aid), "last_assigned", last)
            await store.put_presence(aid, status=AgentStatus.AVAILABLE, skills=frozenset({Skill("general")}),
                                     capacity={"webchat": 1}, now_ms=to_ms(datetime.now(UTC)))
        assert await hub.routing.assign_round() == 2
        holders: dict[str, Any] = {d["_id"]: d.get("agent_id") async for d in db["conversations"].find({})}
        assert holders == {ids[0]: idle, ids[1]: recent, ids[2]: None}


async def test_a_conversation_whose_release_is_still_on_its_way_to_mongodb_waits_for_it(
        mongo_url: str, redis_url: str, redis: Redis, db: Db, db_name: str, directory: MongoDirectory) -> None:
    """A decline or timeout puts the conversation back in line in Redis first and writes MongoDB
    next: a round in between finds it still ``offered`` there. It must stay in line (not be
    dropped, its agent not marked as having declined), and be offered once MongoDB caught up."""
    await load_demo(directory)
    async with quiet_hub(db_name, mongo_url, redis_url) as hub:
        store = RedisRoutingStore(redis)
        [cid] = await seed(db, 1)
        await db["conversations"].update_one({"_id": cid}, {"$set": {"state": "offered", "agent_id": "a_gone"}})
        await enqueue(store, [cid])
        [agent] = await online(store, 1, 3)
        assert await hub.routing.assign_round() == 0
        assert await redis.zscore(queue_key(QUEUE), cid) is not None  # still in line
        assert await store.offer_of(cid) is None
        assert await redis.hget(f"hub:conv:{cid}", "declined") in (b"", None)
        assert int(await redis.hget(agent_key(agent), "load:webchat") or 0) == 0
        await db["conversations"].update_one({"_id": cid}, {"$set": {"state": "queued", "agent_id": None}})
        assert await hub.routing.assign_round() == 1
        assert (await store.offer_of(cid)).agent_id == agent  # type: ignore[union-attr]
