"""Durable projections of the event table (each a ``hub.consumers.DurableConsumer``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from hub.domain.stream import StoredEvent
from hub.kpi_context import DEFAULT_CAPACITY, KnownHistories
from hub.kpi_intervals import Bucket, Counts, batch_contributions


class Histories(Protocol):
    async def histories(self, conversation_ids: Iterable[str]) -> dict[str, list[StoredEvent]]: ...


class IntervalStore(Protocol):
    async def apply(self, changes: Mapping[Bucket, Mapping[str, Counts]]) -> None: ...

    async def drop(self) -> None: ...


class KpiIntervals:
    """Interval facts per 15 minutes x queue x channel (x agent): ``hub.kpi_intervals``."""

    name = "kpi_intervals"

    def __init__(self, events: Histories, store: IntervalStore, *, remember: int = DEFAULT_CAPACITY) -> None:
        self._events = events
        self._store = store
        self._known = KnownHistories(remember)

    async def handle(self, batch: Sequence[StoredEvent]) -> None:
        # An event's contribution depends on its conversation's earlier events (when it entered the
        # queue, when it was assigned). They come from the table, which is immutable, so the result
        # is the same on every replay; those of recently seen conversations are remembered, and only
        # the conversations whose earlier events are not all known are read (hub/kpi_context.py).
        missing = self._known.missing(batch)
        self._known.learn(batch, await self._events.histories(missing) if missing else {})
        histories = self._known.histories(e.conversation_id for e in batch)
        await self._store.apply(batch_contributions(batch, histories))

    async def reset(self) -> None:
        await self._store.drop()
        self._known = KnownHistories(self._known.capacity)
