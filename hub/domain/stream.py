"""The event table as one ordered stream, for durable consumers (pure: no I/O, time passed in).

Every stored event carries ``seq``, a number from one counter that every hub process draws from
before it inserts (``hub/storage/eventlog.py``). The counter gives a total order, but not the
order of *arrival*: a process can draw 10, another 11, and 11 can be stored first. A consumer
that read 11 and moved its checkpoint past 10 would never see 10. So a consumer takes only the
contiguous run after its checkpoint, and waits at a hole:

- a hole is either in flight (its writer will store it in a moment) or burnt (the writer lost the
  version race or died between drawing and inserting);
- a hole open for ``gap_timeout_s`` (on the consumer's own monotonic clock, from when it first saw
  it) is *sealed*: the shared mark ``sealed`` is raised over it, and the consumer reads again before
  going past it. A writer whose draw-to-insert took ``confirm_after_s`` or longer reads ``sealed``
  after its insert; if its number was sealed it draws a new one and moves its event there
  (``must_confirm``). Either the consumer's read after sealing sees the event, or the writer sees
  the seal and re-numbers it: no event is ever left behind. It may be seen twice (at its old and
  its new number), which idempotent handlers absorb (keyed by the event's ``id``).

See docs/decisions/0022-durable-consumers.md for the choice and the proof in prose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.domain.model import NO_DETAIL

# A hole in the numbering is waited on this long before it is sealed; a writer that took half of it
# from drawing its number to storing its event checks the seal. Constants, not settings: every
# writer and every consumer must agree on them.
GAP_TIMEOUT_S = 4.0
CONFIRM_AFTER_S = GAP_TIMEOUT_S / 2


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEvent:
    """One row of the ``events`` table as durable consumers get it (``changes`` left out).

    ``type`` stays a string here: a consumer must skip types it does not know (an event written by
    a newer process), never fail on them.
    """

    seq: int
    id: str  # "<conversation_id>:<version>": the idempotency key of every handler
    conversation_id: str
    version: int
    type: str
    from_state: str | None
    to_state: str
    at: datetime
    channel: str
    queue: str | None = None
    agent_id: str | None = None
    actor: str = ""
    detail: Mapping[str, str] = field(default_factory=lambda: NO_DETAIL)

    def __repr__(self) -> str:
        return f"StoredEvent(#{self.seq} {self.id} {self.type})"


def event_from_doc(doc: Mapping[str, Any]) -> StoredEvent:
    return StoredEvent(
        seq=int(doc["seq"]), id=str(doc["_id"]), conversation_id=str(doc["conversation_id"]),
        version=int(doc["version"]), type=str(doc["type"]), from_state=doc.get("from_state"),
        to_state=str(doc["to_state"]), at=doc["at"], channel=str(doc.get("channel") or ""),
        queue=doc.get("queue"), agent_id=doc.get("agent_id"), actor=str(doc.get("actor") or ""),
        detail=dict(doc.get("detail") or {}),
    )


@dataclass(frozen=True, slots=True)
class HoleWatch:
    """A hole the consumer is waiting on: its first missing number, and since when (monotonic s)."""

    start: int
    since: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """What to do with one read batch.

    ``take``: how many events of the batch (a prefix) to hand to the handler; ``checkpoint``: the
    number to store after the handler succeeded; ``seal_to``: raise the shared seal to this number
    and read again (the hole timed out); ``watch``: the hole still waited on, if any.
    """

    take: int
    checkpoint: int
    seal_to: int | None = None
    watch: HoleWatch | None = None


def has_hole(checkpoint: int, seqs: Sequence[int]) -> bool:
    """Whether the numbers read after ``checkpoint`` skip one (then the seal and the voids matter)."""
    return bool(seqs) and seqs[-1] - checkpoint != len(seqs)


def plan(checkpoint: int, seqs: Sequence[int], *, sealed: int, voids: AbstractSet[int], watch: HoleWatch | None,
         now: float, gap_timeout_s: float = GAP_TIMEOUT_S) -> Step:
    """Decide how far a consumer may go: ``seqs`` are the numbers read after ``checkpoint``, ascending.

    Numbers that are sealed (at most ``sealed``) or void (a writer lost the race for its version and
    said so) are passed at once; any other missing number stops the batch there until it arrives
    or has been missing for ``gap_timeout_s`` since ``watch`` first saw it; then it is sealed.
    """
    expected = checkpoint + 1
    for index, seq in enumerate(seqs):
        if seq < expected:  # cannot happen with a read after ``checkpoint``; nothing to decide
            continue
        start = next((n for n in range(max(expected, sealed + 1), seq) if n not in voids), None)
        if start is not None:
            if watch is None or watch.start != start:
                watch = HoleWatch(start, now)
            if now - watch.since >= gap_timeout_s:
                return Step(take=index, checkpoint=expected - 1, seal_to=seq - 1)
            return Step(take=index, checkpoint=expected - 1, watch=watch)
        expected = seq + 1
    return Step(take=len(seqs), checkpoint=expected - 1)


def must_confirm(elapsed_s: float, confirm_after_s: float = CONFIRM_AFTER_S) -> bool:
    """A writer whose draw-to-insert took this long checks the seal after its insert.

    A consumer seals a hole only after seeing it open for ``gap_timeout_s``, and it can first see
    it only after the writer drew the number. A writer that stored its event within
    ``confirm_after_s`` (half the gap timeout: room for clock-rate differences) stored it before
    any seal could be raised over it.
    """
    return elapsed_s >= confirm_after_s
