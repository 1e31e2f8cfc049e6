"""Durable projections of the event table (each a ``hub.consumers.DurableConsumer``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from hub.domain.stream import StoredEvent
from hub.kpi_intervals import Bucket, Counts, batch_contributions


class Histories(Protocol):
    async def histories(self, conversation_ids: Iterable[str]) -> dict[str, list[StoredEvent]]: ...


class IntervalStore(Protocol):
    async def apply(self, changes: Mapping[Bucket, Mapping[str, Counts]]) -> None: ...

    async def drop(self) -> None: ...


class KpiIntervals:
    """Interval facts per 15 minutes x queue x channel (x agent): ``hub.kpi_intervals``."""

    name = "kpi_intervals"

    def __init__(self, events: Histories, store: IntervalStore) -> None:
        self._events = events
        self._store = store

    async def handle(self, batch: Sequence[StoredEvent]) -> None:
        # An event's contribution depends on its conversation's earlier events (when it entered the
        # queue, when it was assigned): read them from the table, which is immutable, so the result
        # is the same on every replay.
        histories = await self._events.histories(e.conversation_id for e in batch)
        await self._store.apply(batch_contributions(batch, histories))

    async def reset(self) -> None:
        await self._store.drop()
