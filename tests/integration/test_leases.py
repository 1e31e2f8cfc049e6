"""Work that runs in one hub process at a time, on a real Redis: two processes' lease holders
compete; one works, the other takes over when the first stops or loses its lease."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from redis.asyncio import Redis

from hub.leases import PREFIX, RedisLeases
from hub.tasks import cancel_and_wait
from tests.conftest import eventually


class Worker:
    """Stands for a mailbox watcher: records who runs, runs until cancelled."""

    def __init__(self) -> None:
        self.running: set[str] = set()
        self.runs: list[str] = []

    def for_owner(self, owner: str):  # type: ignore[no-untyped-def]
        async def work() -> None:
            self.running.add(owner)
            self.runs.append(owner)
            try:
                await asyncio.Event().wait()
            finally:
                self.running.discard(owner)
        return work


@contextlib.asynccontextmanager
async def competing(leases: RedisLeases, name: str, worker: Worker) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(leases.exclusive(name, worker.for_owner(leases.owner)))
    try:
        yield task
    finally:
        await cancel_and_wait(task)


async def test_one_holder_at_a_time_then_a_takeover_when_it_stops(redis: Redis) -> None:
    first, second, worker = RedisLeases(redis, ttl_s=0.6), RedisLeases(redis, ttl_s=0.6), Worker()
    async with competing(second, "mailbox-a", worker):
        async with competing(first, "mailbox-a", worker):
            await eventually(lambda: len(worker.running) == 1)
            await asyncio.sleep(1.5)  # several renewals: never two at once, never a change of hands
            assert len(worker.running) == 1 and len(worker.runs) == 1
            holder = worker.runs[0]
        # The first process stops: it released the lease, or never had it; the second works now.
        await eventually(lambda: worker.running == {second.owner}, timeout=5)
        assert worker.runs == ([first.owner, second.owner] if holder == first.owner else [second.owner])
    assert worker.running == set()
    assert await second.holder("mailbox-a") is None, "a clean stop releases the lease"


async def test_a_holder_that_lost_its_lease_stops_working(redis: Redis) -> None:
    leases, worker = RedisLeases(redis, ttl_s=0.6), Worker()
    async with competing(leases, "mailbox-c", worker):
        await eventually(lambda: worker.running == {leases.owner})
        await redis.set(PREFIX + "mailbox-c", "another-process")  # e.g. it expired while Redis was away
        await eventually(lambda: worker.running == set(), timeout=3)
        assert await leases.holder("mailbox-c") == "another-process"
        await redis.delete(PREFIX + "mailbox-c")
        await eventually(lambda: worker.running == {leases.owner}, timeout=3)  # and competes again
    assert worker.runs == [leases.owner, leases.owner]


async def test_a_supervised_leased_loop_runs_in_one_supervisor_and_stands_by_in_the_other(redis: Redis) -> None:
    from hub.supervisor import Health, Supervisor

    running: set[str] = set()

    def loop_of(owner: str):  # type: ignore[no-untyped-def]
        async def work(health: Health) -> None:
            running.add(owner)
            health.up()
            try:
                await asyncio.Event().wait()
            finally:
                running.discard(owner)
        return work

    def state(supervisor: Supervisor) -> str:
        return supervisor.states()[0].state.value

    first, second = RedisLeases(redis, ttl_s=0.6), RedisLeases(redis, ttl_s=0.6)
    async with Supervisor(exclusive=second) as standby_side:
        async with Supervisor(exclusive=first) as working_side:
            working_side.start("channels:test:mailbox", loop_of("first"), lease="mailbox-s")
            await eventually(lambda: running == {"first"})
            standby_side.start("channels:test:mailbox", loop_of("second"), lease="mailbox-s")
            await asyncio.sleep(1.0)  # renewals pass: the second stays on standby
            assert (state(working_side), state(standby_side)) == ("running", "standby") and running == {"first"}
        assert state(working_side) == "stopped"
        await eventually(lambda: running == {"second"} and state(standby_side) == "running", timeout=5)
