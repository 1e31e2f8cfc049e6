"""Argon2id password hashing, off the event loop, on a small pool of its own.

A hash costs tens of milliseconds of CPU and 64 MiB of memory. ``HashingPool`` runs them on its
own threads with a bounded wait, so a flood of logins neither takes the default executor's
threads (every ``asyncio.to_thread`` of the process) nor holds more than ``threads`` x 64 MiB.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.errors import InvalidInput

HASHER = PasswordHasher()  # immutable parameters; safe to share
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 200
T = TypeVar("T")


def check_password_rules(password: str) -> None:
    """Raises InvalidInput with a message people can act on."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput(f"passwords have at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidInput(f"passwords have at most {MAX_PASSWORD_CHARS} characters")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    """Sync: ``None`` (no such user) is checked against a dummy hash, so both paths take as long."""
    try:
        return HASHER.verify(password_hash or dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str, password: str) -> bool:
    """For the CLI and tests; the console goes through its ``HashingPool``."""
    return await asyncio.to_thread(check_password, password_hash, password)


@functools.cache
def dummy_hash() -> str:
    """A hash to verify against when the user does not exist (computed once, in a worker thread)."""
    return hash_password("no-such-user")


class HashingBusy(Exception):
    """Every thread is hashing and the wait queue is full: answer 503 now, do not queue."""


class HashingPool:
    """Argon2 work on ``threads`` threads of its own, at most ``queue`` more waiting.

    Lifecycle: ``with HashingPool(...)`` (the composition root); leaving waits for running hashes.
    ``verify`` and ``hash`` raise ``HashingBusy`` at once when ``threads + queue`` are admitted.
    Cancelling a caller cancels its queued work; a hash already running finishes and then frees
    its place. ``peak_admitted`` and ``rejected`` are for tests and operators.
    """

    def __init__(self, *, threads: int, queue: int) -> None:
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="argon2")
        self._limit = threads + queue
        self._lock = threading.Lock()  # done-callbacks run in the worker threads
        self._admitted = 0
        self.peak_admitted = 0
        self.rejected = 0

    def __enter__(self) -> HashingPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)  # a running hash ends on its own

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await self._run(functools.partial(check_password, password_hash, password))

    async def hash(self, password: str) -> str:
        return await self._run(functools.partial(hash_password, password))

    async def _run(self, work: functools.partial[T]) -> T:
        with self._lock:
            if self._admitted >= self._limit:
                self.rejected += 1
                raise HashingBusy(f"{self._limit} password checks in progress")
            self._admitted += 1
            self.peak_admitted = max(self.peak_admitted, self._admitted)
        try:
            future: Future[T] = self._executor.submit(work)
        except RuntimeError:  # shut down
            self._release(None)
            raise
        future.add_done_callback(self._release)  # also when a queued future is cancelled
        return await asyncio.wrap_future(future)

    def _release(self, _: object) -> None:
        with self._lock:
            self._admitted -= 1
