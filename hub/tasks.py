"""Stopping background tasks reliably."""

from __future__ import annotations

import asyncio


async def cancel_and_wait(task: asyncio.Task[None], *, grace_s: float = 1.0) -> None:
    """Cancel ``task`` and wait until it has ended.

    Cancels again while it runs on: on Python 3.11 ``asyncio.timeout``/``wait_for`` can swallow a
    cancellation that lands while their own timeout fires, and the task would loop on forever.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=grace_s)
    if not task.cancelled() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]
