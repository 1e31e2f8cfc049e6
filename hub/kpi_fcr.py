"""First-contact resolution, decided when the history is read (pure; docs/kpis.md "First-contact
resolution"): a conversation an agent resolved is resolved at first contact when its contact opens no
new conversation in the same queue, and nobody reopens it, within the window after the resolution."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.kpi_intervals import Bucket, Counts, interval_of


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    """A conversation an agent resolved (handled): where, by whom, when, and whose it was."""

    conversation_id: str
    contact_id: str
    queue: str
    channel: str
    agent: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Opened:
    """A conversation a contact opened, and the queue it is in (its topic); "" before any queue."""

    conversation_id: str
    contact_id: str
    queue: str
    created_at: datetime


def first_contact(resolution: Resolution, opened: Iterable[Opened], window: timedelta, now: datetime,
                  reopened: Iterable[datetime] = ()) -> bool | None:
    """Resolved at first contact: no new conversation of the same contact in the same queue, and no
    reopening of this one (``reopened``: when it was reopened), within ``window`` after the
    resolution. ``None`` until the window has passed (then it is decided)."""
    if now < resolution.at + window:
        return None
    end = resolution.at + window
    if any(resolution.at < at <= end for at in reopened):
        return False
    return not any(o.contact_id == resolution.contact_id and o.conversation_id != resolution.conversation_id
                   and o.queue == resolution.queue and resolution.at < o.created_at <= end
                   for o in opened)


def fcr_buckets(resolutions: Iterable[Resolution], opened: Iterable[Opened], window: timedelta,
                now: datetime, reopened: Mapping[str, Sequence[datetime]] | None = None,
                ) -> list[tuple[Bucket, Counts]]:
    """Counters to add to the buckets (the queue's and the agent's, where the resolution was counted):
    ``fcr_decided`` and ``fcr_first``, or ``fcr_pending``. ``reopened``: per conversation, when staff
    reopened it."""
    by_contact: dict[str, list[Opened]] = defaultdict(list)
    for o in opened:
        by_contact[o.contact_id].append(o)
    out: list[tuple[Bucket, Counts]] = []
    for r in resolutions:
        verdict = first_contact(r, by_contact.get(r.contact_id, ()), window, now,
                                (reopened or {}).get(r.conversation_id, ()))
        counts = {"fcr_pending": 1} if verdict is None else {"fcr_decided": 1, "fcr_first": int(verdict)}
        interval = interval_of(r.at)
        out.append((Bucket(interval, r.queue, r.channel), counts))
        if r.agent:
            out.append((Bucket(interval, r.queue, r.channel, r.agent), counts))
    return out
