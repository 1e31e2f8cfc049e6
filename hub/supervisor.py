"""One supervisor for the process's background loops: named tasks, restarted with backoff, visible.

A loop is a coroutine function that runs until cancelled (an IMAP watcher, Telegram polling) or
that finishes its job and returns (registering a webhook). When it raises, the supervisor logs the
failure once and starts it again after a capped exponential backoff with jitter; a loop that was
healthy (it called ``Health.up``) starts again from the shortest wait. With a lease name the loop
runs only in the process that holds the lease (``hub.ports.Exclusive``), and is ``standby``
elsewhere. ``states()`` is what ``/readyz`` shows: the name, the state, the attempt count and the
class of the last error, never its message (which may quote a URL, an address or a token).

Lifecycle: ``async with Supervisor(...)``; ``start`` adds loops while it is open; ``cancel(name)``
stops one; leaving cancels them all and waits until each has ended (``hub.tasks.cancel_and_wait``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from hub.ports import Exclusive
from hub.tasks import cancel_and_wait

logger = logging.getLogger(__name__)


class LoopState(StrEnum):
    STARTING = "starting"      # running, not yet reported healthy
    RUNNING = "running"        # reported healthy since its last start
    RESTARTING = "restarting"  # failed; waiting for the next attempt
    STANDBY = "standby"        # waiting for its lease (another process runs it)
    DONE = "done"              # returned: its job is finished
    STOPPED = "stopped"        # cancelled (shutdown)


@dataclass(frozen=True, slots=True, kw_only=True)
class Backoff:
    """Waits between attempts: ``first_s`` doubling up to ``max_s``, each times a random 0.5-1."""

    first_s: float = 0.5
    max_s: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return min(self.max_s, self.first_s * 2.0 ** min(max(attempt - 1, 0), 30)) * rng.uniform(0.5, 1.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopStatus:
    """A supervised loop as ``/readyz`` shows it."""

    name: str
    state: LoopState
    attempt: int  # consecutive failed attempts (0 while healthy)
    last_error: str | None  # the exception's class name, never its message
    restarts: int  # failures since the process started

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "state": self.state.value, "attempt": self.attempt,
                "last_error": self.last_error, "restarts": self.restarts}


class Health:
    """Handed to a supervised loop: ``up()`` says it works (connected, polled once), which resets
    the backoff and shows it as ``running``."""

    def __init__(self, loop: _Loop) -> None:
        self._loop = loop

    def up(self) -> None:
        self._loop.attempt = 0
        self._loop.state = LoopState.RUNNING


Work = Callable[[Health], Awaitable[None]]


class _Loop:
    def __init__(self, name: str, work: Work, backoff: Backoff, quiet: tuple[type[BaseException], ...]) -> None:
        self.name, self.work, self.backoff, self.quiet = name, work, backoff, quiet
        self.state = LoopState.STARTING
        self.attempt = 0
        self.restarts = 0
        self.last_error: str | None = None

    def status(self) -> LoopStatus:
        return LoopStatus(name=self.name, state=self.state, attempt=self.attempt, last_error=self.last_error,
                          restarts=self.restarts)


class Supervisor:
    """Runs named loops (``"<package>:<component>[:<id>]"``) as tasks; see the module docstring.

    ``exclusive`` is needed only for loops started with a ``lease``.
    """

    def __init__(self, *, exclusive: Exclusive | None = None, rng: random.Random | None = None) -> None:
        self._exclusive = exclusive
        self._rng = rng or random.Random()
        self._loops: dict[str, _Loop] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def __aenter__(self) -> Supervisor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start(self, name: str, work: Work, *, lease: str | None = None, backoff: Backoff | None = None,
              quiet: tuple[type[BaseException], ...] = ()) -> None:
        """Run ``work`` under supervision from now on.

        ``quiet``: exception classes that are expected now and then (a dropped connection); they
        are logged as one warning line, every other failure with its traceback.
        Raises ValueError for a name already in use, or a lease without ``exclusive``.
        """
        if name in self._loops:
            raise ValueError(f"a loop named {name!r} is supervised already")
        if lease is not None and self._exclusive is None:
            raise ValueError("a leased loop needs the supervisor's exclusive")
        loop = self._loops[name] = _Loop(name, work, backoff or Backoff(), quiet)
        body = self._forever(loop) if lease is None else self._leased(loop, lease)
        self._tasks[name] = asyncio.create_task(body, name=name)

    def states(self) -> list[LoopStatus]:
        return [loop.status() for loop in self._loops.values()]

    async def stop(self) -> None:
        """Cancel every loop, newest first, and wait until each has ended."""
        for name in reversed(list(self._tasks)):
            await cancel_and_wait(self._tasks.pop(name))

    async def cancel(self, name: str) -> None:
        """Stop one loop and wait until it has ended (its owner stops before the rest: the bus's
        listener when the bus closes); it stays listed as ``stopped``. Nothing if it is not running."""
        task = self._tasks.pop(name, None)
        if task is not None:
            await cancel_and_wait(task)

    async def _leased(self, loop: _Loop, lease: str) -> None:
        assert self._exclusive is not None
        loop.state = LoopState.STANDBY
        try:
            await self._exclusive.exclusive(lease, lambda: self._forever(loop, standby_after=True))
        finally:
            loop.state = LoopState.STOPPED

    async def _forever(self, loop: _Loop, *, standby_after: bool = False) -> None:
        try:
            while True:
                loop.state = LoopState.STARTING
                started = time.monotonic()
                try:
                    await loop.work(Health(loop))
                    loop.state = LoopState.DONE
                    logger.info("supervisor.loop.done name=%s", loop.name)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as err:
                    await self._after_failure(loop, err, time.monotonic() - started)
        finally:
            if loop.state is not LoopState.DONE:
                loop.state = LoopState.STANDBY if standby_after else LoopState.STOPPED

    async def _after_failure(self, loop: _Loop, err: Exception, ran_s: float) -> None:
        loop.attempt += 1
        loop.restarts += 1
        loop.last_error = type(err).__name__
        loop.state = LoopState.RESTARTING
        wait = loop.backoff.delay(loop.attempt, self._rng)
        if isinstance(err, loop.quiet):
            logger.warning("supervisor.loop.failed name=%s attempt=%d error=%s ran_s=%.1f retry_in=%.1fs",
                           loop.name, loop.attempt, loop.last_error, ran_s, wait)
        else:
            logger.exception("supervisor.loop.crashed name=%s attempt=%d ran_s=%.1f retry_in=%.1fs",
                             loop.name, loop.attempt, ran_s, wait)
        await asyncio.sleep(wait)
