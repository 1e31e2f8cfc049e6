"""The conversations' earlier events a KPI batch needs, kept between batches (pure, in memory).

An event's contribution (``hub.kpi_intervals.contributions``) depends on its conversation's
events before it. Reading them from the table for every batch was most of the projection's work
(bench/README.md "KPI projection and history"): a conversation's events arrive over minutes, so
the same histories were read again batch after batch. ``KnownHistories`` remembers the events of
the most recently seen conversations and says which conversations of a batch must still be read.

It is exact, not a guess: a conversation's versions are contiguous from 0 (version ``n`` is only
written after version ``n - 1``, ``hub/storage/conversations.py``), so an event's history is
complete when every version below it is known; otherwise the conversation is read again. The
table is immutable (a renumbered event keeps its id and content), so what is remembered never goes
stale. Forgetting (the least recently seen first, past ``capacity``) only costs a read.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence

from hub.domain.stream import StoredEvent

DEFAULT_CAPACITY = 20_000  # conversations (~6 events each); a busy hour of the hotline is far fewer


class KnownHistories:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = capacity
        self._known: OrderedDict[str, dict[int, StoredEvent]] = OrderedDict()

    @property
    def capacity(self) -> int:
        return self._capacity

    def __len__(self) -> int:
        return len(self._known)

    def missing(self, batch: Sequence[StoredEvent]) -> set[str]:
        """The batch's conversations whose earlier events are not all known (counting the batch's own)."""
        versions: dict[str, set[int]] = {}
        for event in batch:
            versions.setdefault(event.conversation_id, set()).add(event.version)
        out: set[str] = set()
        for conversation_id, in_batch in versions.items():
            known = self._known.get(conversation_id, {})
            have = in_batch | known.keys()
            if any(v not in have for v in range(max(in_batch))):
                out.add(conversation_id)
        return out

    def learn(self, batch: Iterable[StoredEvent], read: Mapping[str, Sequence[StoredEvent]]) -> None:
        """Remember ``read`` (whole histories from the table) and the batch's events, then forget what was
        seen least recently past the capacity (never the batch's own: ``histories`` needs them next)."""
        for conversation_id, events in read.items():
            self._merge(conversation_id, events)
        batch_ids = set()
        for event in batch:
            self._merge(event.conversation_id, (event,))
            batch_ids.add(event.conversation_id)
        while len(self._known) > max(self._capacity, len(batch_ids)):
            self._known.popitem(last=False)  # the batch's conversations were moved to the end

    def histories(self, conversation_ids: Iterable[str]) -> dict[str, list[StoredEvent]]:
        """What is known of these conversations, by version (``hub.kpi_intervals.batch_contributions``'s input)."""
        return {c: [known[v] for v in sorted(known)]
                for c in set(conversation_ids) if (known := self._known.get(c)) is not None}

    def _merge(self, conversation_id: str, events: Iterable[StoredEvent]) -> None:
        known = self._known.setdefault(conversation_id, {})
        self._known.move_to_end(conversation_id)
        for event in events:
            known.setdefault(event.version, event)
