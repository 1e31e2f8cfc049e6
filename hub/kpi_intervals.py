"""Interval facts: per 15 minutes x queue x channel (x agent), counts and summed waits (pure).

The first durable projection (``hub.projections.KpiIntervals`` keeps it in ``kpi_intervals``) and
its full replay (``replay``) are the same function of the event table: ``contributions`` gives
what one event adds, knowing only that event and the events of its conversation before it. So
the stored projection equals the replay whatever the batches, the crashes and the order in
which events were applied; durations are whole milliseconds, so sums never depend on the order
of additions either.

Intervals are UTC quarter hours: every time zone's offset is a multiple of 15 minutes, so any
local day, hour or DST day is a union of these intervals.

Buckets with ``agent == ""`` are the queue's; a bucket with an agent holds what that agent did.
A transferred conversation's handle time is split: each agent's bucket gets her own part (from
her ``assigned`` to the transfer or the resolve), the queue's bucket the sum of the parts once, at
the resolve. ``busy_ms`` (occupancy's numerator) is each part cut into the quarter hours it ran in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hub.domain.stream import StoredEvent

INTERVAL_MINUTES = 15
QUARTER = timedelta(minutes=INTERVAL_MINUTES)
# Answered and abandoned counts by wait, so a service level for any of these thresholds can be read.
WAIT_EDGES_S = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300)
# Counters whose value is a maximum, not a sum.
MAXIMA = frozenset({"max_wait_ms"})

Counts = dict[str, int]


@dataclass(frozen=True, slots=True, order=True)
class Bucket:
    interval: datetime  # start of the quarter hour, UTC
    queue: str
    channel: str
    agent: str = ""

    @property
    def key(self) -> str:
        """The document ``_id``: readable and sortable by interval."""
        return f"{self.interval:%Y-%m-%dT%H:%M}Z|{self.queue}|{self.channel}|{self.agent}"


def interval_of(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return at.replace(minute=at.minute - at.minute % INTERVAL_MINUTES, second=0, microsecond=0)


def _ms(later: datetime, earlier: datetime) -> int:
    return max(0, round((later - earlier).total_seconds() * 1000))


def _entered_queue(prior: Sequence[StoredEvent]) -> StoredEvent | None:
    """The event that put the conversation in its current queue (declines and timeouts do not)."""
    for event in reversed(prior):
        if event.to_state == "queued" and event.from_state != "offered":
            return event
    return None


def _last(prior: Sequence[StoredEvent], to_state: str) -> StoredEvent | None:
    """The last event that entered ``to_state`` (an event that stays there, ``wrap_up_coded``, does not)."""
    return next((e for e in reversed(prior) if e.to_state == to_state and e.from_state != to_state), None)


HELD = ("assigned", "wrap_up")  # an agent holds the conversation: her part runs


def _parts_ms(prior: Sequence[StoredEvent], end: StoredEvent) -> int:
    """The handle time of every agent's part: each ``assigned`` to the transfer or resolve that ended it."""
    total, since = 0, None
    for event in [*prior, end]:
        if event.to_state == "assigned" and event.from_state != "assigned":  # a snooze stays in her part
            since = event.at
        elif since is not None and event.from_state in HELD and event.to_state not in HELD:
            total, since = total + _ms(event.at, since), None
    return total


def _busy(agent: str | None, queue: str, channel: str, start: datetime, end: datetime,
          ) -> list[tuple[Bucket, Counts]]:
    """``busy_ms``: an agent's part cut into the quarter hours it ran in (occupancy's numerator)."""
    out: list[tuple[Bucket, Counts]] = []
    if not agent:
        return out
    quarter = interval_of(start)
    while quarter < end:
        stop = quarter + QUARTER
        spent = _ms(min(end, stop), max(start, quarter))
        if spent:
            out.append((Bucket(quarter, queue, channel, agent), {"busy_ms": spent}))
        quarter = stop
    return out


def _waited(prefix: str, wait_ms: int) -> Counts:
    counts = {prefix: 1, f"{prefix}_wait_ms": wait_ms, "max_wait_ms": wait_ms}
    for edge in WAIT_EDGES_S:
        if wait_ms <= edge * 1000:
            counts[f"{prefix}_le_{edge}s"] = 1
    return counts


def contributions(event: StoredEvent, prior: Sequence[StoredEvent]) -> list[tuple[Bucket, Counts]]:
    """What ``event`` adds to which buckets; ``prior``: its conversation's events before it, by version.

    Unknown event types add nothing.
    """
    interval, channel = interval_of(event.at), event.channel
    queue = event.queue or ""
    previous = prior[-1] if prior else None

    def at_queue(counts: Counts, queue_id: str = queue) -> tuple[Bucket, Counts]:
        return Bucket(interval, queue_id, channel), counts

    def at_agent(agent: str | None, counts: Counts, queue_id: str = queue) -> list[tuple[Bucket, Counts]]:
        return [(Bucket(interval, queue_id, channel, agent), counts)] if agent else []

    kind, source, target = event.type, event.from_state, event.to_state
    if kind == "created":
        return [at_queue({"created": 1})]
    if kind == "bot_started":
        return [at_queue({"with_bot": 1})]
    if target == "queued" and source != "offered":  # entered a queue: offered to it
        counts: Counts = {"offered": 1}
        if kind == "handed_over":
            counts["handed_over"] = 1
        if kind == "transferred":
            counts["transferred_in"] = 1
        out: list[tuple[Bucket, Counts]] = [at_queue(counts)]
        if kind == "reopened":
            out += _reopened(prior)
        if kind == "transferred" and previous is not None and source in HELD:
            from_queue = previous.queue or ""
            out.append(at_queue({"transferred_out": 1}, from_queue))
            assigned = _last(prior, "assigned")  # the transferring agent's part is hers (docs/kpis.md)
            part = {"transferred_out": 1, "handle_ms": _ms(event.at, assigned.at) if assigned else 0}
            out += at_agent(previous.agent_id, part, from_queue)
            if assigned is not None:
                out += _busy(previous.agent_id, from_queue, channel, assigned.at, event.at)
        return out
    if target == "offered":
        return at_agent(event.agent_id, {"offers": 1})
    if kind == "called_out":  # an agent's own outbound call: never offered, never answered from a queue
        return at_agent(event.agent_id, {"outbound": 1})
    if target == "abandoned":  # the caller hung up while waiting (detail short: under the threshold)
        entered = _entered_queue(prior)
        counts = _waited("abandoned", _ms(event.at, entered.at) if entered else 0)
        if event.detail.get("short") == "yes":
            counts["abandoned_short"] = 1
        return [at_queue(counts)]
    if target == "queued" and source == "offered":  # declined, offer_timed_out, offer_lost
        agent = event.detail.get("agent_id") or (previous.agent_id if previous else None)
        return at_agent(agent, {kind: 1})
    if target == "assigned" and source != "assigned":  # snoozed and woken stay hers: nothing to count
        entered = _entered_queue(prior)
        wait = _ms(event.at, entered.at) if entered else 0
        return [at_queue(_waited("answered", wait)), *at_agent(event.agent_id, _waited("answered", wait))]
    if target == "wrap_up" and source != "wrap_up":  # wrap_up_coded stays there: nothing to count
        return at_agent(event.agent_id, {"wrapped_up": 1})
    if target == "resolved":
        if source == "queued":  # ended while waiting: abandoned (for chat: closed before an agent took it)
            entered = _entered_queue(prior)
            return [at_queue(_waited("abandoned", _ms(event.at, entered.at) if entered else 0))]
        if source == "bot":
            return [at_queue({"resolved_by_bot": 1})]
        assigned = _last(prior, "assigned")
        # The queue counts the conversation once with every agent's part; the agent her own part.
        counts = {"resolved": 1, "handle_ms": _parts_ms(prior, event)}
        mine = {"resolved": 1, "handle_ms": _ms(event.at, assigned.at) if assigned else 0}
        wrapped = _last(prior, "wrap_up") if source == "wrap_up" else None
        if wrapped is not None:
            counts["after_work_ms"] = mine["after_work_ms"] = _ms(event.at, wrapped.at)
        busy = _busy(event.agent_id, queue, channel, assigned.at, event.at) if assigned else []
        return [at_queue(counts), *at_agent(event.agent_id, mine), *busy]
    if kind == "survey_answered":  # CSAT: counted when the customer answered, for the agent who resolved
        survey = _survey_counts(event.detail.get("score", ""))
        return [at_queue(survey), *at_agent(event.agent_id, survey)] if survey else []
    return []


def _reopened(prior: Sequence[StoredEvent]) -> list[tuple[Bucket, Counts]]:
    """``reopened``: counted with the resolution it undid (its quarter hour, queue, channel and
    agent), so a row's reopen rate is the share of its handled conversations reopened since. A
    resolution no agent made (abandoned in the queue) was not handled: nothing."""
    resolved = _last(prior, "resolved")
    if resolved is None or resolved.from_state not in HELD:
        return []
    where = Bucket(interval_of(resolved.at), resolved.queue or "", resolved.channel)
    out = [(where, {"reopened": 1})]
    if resolved.agent_id:
        out.append((Bucket(where.interval, where.queue, where.channel, resolved.agent_id), {"reopened": 1}))
    return out


def _survey_counts(score: str) -> Counts:
    """``surveys_answered``, ``survey_score_sum`` and ``survey_satisfied`` (4 or 5); nothing for a bad score."""
    if not (score.isascii() and score.isdigit() and 1 <= int(score) <= 5):
        return {}
    return {"surveys_answered": 1, "survey_score_sum": int(score), "survey_satisfied": int(int(score) >= 4)}


def add(total: Counts, counts: Mapping[str, int]) -> None:
    for name, value in counts.items():
        total[name] = max(total.get(name, 0), value) if name in MAXIMA else total.get(name, 0) + value


def replay(events: Iterable[StoredEvent]) -> dict[Bucket, Counts]:
    """The whole projection from a list of events (any order): the reference the store must equal."""
    by_conversation: dict[str, list[StoredEvent]] = defaultdict(list)
    seen: set[str] = set()
    for event in events:
        if event.id not in seen:  # the same event read twice (renumbered) counts once
            seen.add(event.id)
            by_conversation[event.conversation_id].append(event)
    totals: dict[Bucket, Counts] = defaultdict(dict)
    for history in by_conversation.values():
        history.sort(key=lambda e: e.version)
        for index, event in enumerate(history):
            for bucket, counts in contributions(event, history[:index]):
                add(totals[bucket], counts)
    return dict(totals)


def batch_contributions(batch: Iterable[StoredEvent], histories: Mapping[str, Sequence[StoredEvent]],
                        ) -> dict[Bucket, dict[str, Counts]]:
    """Per bucket, per event id, what the batch adds: the unit the store applies idempotently.

    ``histories``: every event of each conversation in the batch (any order; later ones are ignored).
    """
    out: dict[Bucket, dict[str, Counts]] = defaultdict(dict)
    for event in batch:
        prior = sorted((e for e in histories.get(event.conversation_id, ()) if e.version < event.version),
                       key=lambda e: e.version)
        for bucket, counts in contributions(event, prior):
            add(out[bucket].setdefault(event.id, {}), counts)
    return dict(out)
