"""hub.supervisor: named loops restarted with backoff, their state as /readyz shows it."""

from __future__ import annotations

import asyncio
import json
import random

import pytest

from hub.supervisor import Backoff, Health, LoopState, Supervisor
from tests.conftest import eventually

FAST = Backoff(first_s=0.01, max_s=0.05)


class Flaky:
    """Fails ``failures`` times (with a message that must never be shown), then stays up."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.starts = 0

    async def __call__(self, health: Health) -> None:
        self.starts += 1
        if self.starts <= self.failures:
            raise ConnectionResetError("imap://support:hunter2@mail.example.test dropped")
        health.up()
        await asyncio.Event().wait()


def state_of(supervisor: Supervisor, name: str) -> dict[str, object]:
    (status,) = [s for s in supervisor.states() if s.name == name]
    return status.to_json()


async def test_a_failing_loop_is_restarted_and_shows_its_attempts_then_runs() -> None:
    work = Flaky(failures=3)
    name = "channels:test:flaky"
    async with Supervisor(rng=random.Random(1)) as supervisor:
        supervisor.start(name, work, backoff=Backoff(first_s=0.2, max_s=0.2), quiet=(ConnectionError,))
        restarting = await eventually(lambda: (s := state_of(supervisor, name))["state"] == "restarting" and s)
        await eventually(lambda: state_of(supervisor, name)["state"] == "running")
        running = state_of(supervisor, name)
    assert restarting["last_error"] == "ConnectionResetError" and restarting["attempt"] in (1, 2, 3)
    assert running == {"name": name, "state": "running", "attempt": 0, "last_error": "ConnectionResetError",
                       "restarts": 3}
    assert work.starts == 4
    assert "hunter2" not in json.dumps([restarting, running])  # the class, never the message
    assert supervisor.states()[0].state is LoopState.STOPPED


async def test_the_backoff_grows_to_its_cap_with_jitter() -> None:
    rng = random.Random(7)
    backoff = Backoff(first_s=0.5, max_s=4.0)
    delays = [backoff.delay(attempt, rng) for attempt in range(1, 8)]
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True)), delays


async def test_a_loop_that_finishes_is_done_and_not_started_again() -> None:
    runs: list[int] = []

    async def register(health: Health) -> None:
        runs.append(1)

    async with Supervisor() as supervisor:
        supervisor.start("channels:test:register", register, backoff=FAST)
        await eventually(lambda: state_of(supervisor, "channels:test:register")["state"] == "done")
        await asyncio.sleep(0)  # one more turn of the loop: nothing restarts it
    assert runs == [1]


async def test_an_unexpected_error_is_logged_with_its_traceback_once_per_attempt(
        caplog: pytest.LogCaptureFixture) -> None:
    async def broken(health: Health) -> None:
        raise KeyError("customer@example.test")

    async with Supervisor() as supervisor:
        supervisor.start("channels:test:broken", broken, backoff=Backoff(first_s=10, max_s=10))
        await eventually(lambda: state_of(supervisor, "channels:test:broken")["attempt"] == 1)
    (record,) = [r for r in caplog.records if r.name == "hub.supervisor"]
    assert record.getMessage().startswith("supervisor.loop.crashed name=channels:test:broken attempt=1")
    assert record.exc_info is not None


async def test_names_are_unique_and_a_lease_needs_exclusive() -> None:
    async def idle(health: Health) -> None:
        await asyncio.Event().wait()

    async with Supervisor() as supervisor:
        supervisor.start("a", idle)
        with pytest.raises(ValueError, match="already"):
            supervisor.start("a", idle)
        with pytest.raises(ValueError, match="exclusive"):
            supervisor.start("b", idle, lease="b")
    assert [t.get_name() for t in asyncio.all_tasks() if t.get_name() == "a"] == []


async def test_cancel_stops_one_loop_and_leaves_the_others_running() -> None:
    async with Supervisor() as supervisor:
        supervisor.start("hub:bus", Flaky(failures=0), backoff=FAST)
        supervisor.start("routing:assigner", Flaky(failures=0), backoff=FAST)
        await eventually(lambda: all(s.state is LoopState.RUNNING for s in supervisor.states()))
        await supervisor.cancel("hub:bus")
        await supervisor.cancel("hub:bus")  # twice, or a name never started: nothing
        await supervisor.cancel("no:such:loop")
        assert {s.name: s.state for s in supervisor.states()} == {
            "hub:bus": LoopState.STOPPED, "routing:assigner": LoopState.RUNNING}
    assert all(s.state is LoopState.STOPPED for s in supervisor.states())
