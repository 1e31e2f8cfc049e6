"""The port of supervisors' history (``KpiRecords``): the stored projection and the events behind it.

Implemented by ``hub.storage.kpi_history.MongoKpiRecords``; used by ``hub.kpi_reports.KpiReports``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hub.domain.agent_states import StateSpan
from hub.domain.model import Team
from hub.domain.stream import StoredEvent
from hub.kpi_fcr import Opened
from hub.kpi_intervals import Bucket, Counts


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationLine:
    """A conversation as a drill-down lists it (its contact's display name, not the address)."""

    id: str
    contact_id: str
    channel: str
    state: str
    contact_name: str
    created_at: datetime | None

    def __repr__(self) -> str:  # no names in logs or tracebacks
        return f"ConversationLine({self.id} {self.state})"


class KpiRecords(Protocol):
    async def intervals(self, start: datetime, end: datetime) -> list[tuple[Bucket, Counts]]:
        """The ``kpi_intervals`` buckets with ``start <= interval < end`` (UTC)."""

    async def events(self, start: datetime, end: datetime, types: Collection[str], *, channel: str | None,
                     limit: int) -> list[StoredEvent]:
        """Events of ``types`` with ``start <= at < end``, oldest first, at most ``limit``."""

    async def histories(self, conversation_ids: Iterable[str]) -> dict[str, list[StoredEvent]]:
        """Every event of these conversations, by version."""

    async def opened_by(self, contact_ids: Iterable[str], start: datetime, end: datetime) -> list[Opened]:
        """The conversations of these contacts created with ``start < created_at <= end``."""

    async def lines(self, conversation_ids: Iterable[str]) -> dict[str, ConversationLine]:
        """The conversations' current lines (missing ids left out)."""

    async def state_spans(self, start: datetime, end: datetime) -> list[StateSpan]:
        """The agents' state spans overlapping ``[start, end)`` (occupancy's staffed time)."""

    async def teams(self) -> list[Team]:
        """The teams as they are now."""
