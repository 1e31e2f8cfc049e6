"""The conversation event types (``events.type``), each bound to the state-machine edges it may
label, and the check every stored transition passes. Pure; re-exported by ``hub.domain.events``."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from hub.domain.states import ConversationState, check_transition
from hub.errors import IllegalTransition

S = ConversationState


class EventType(enum.StrEnum):
    """``events.type``: what a stored transition means. Past tense; each is bound to its edges."""

    CREATED = "created"
    BOT_STARTED = "bot_started"
    HANDED_OVER = "handed_over"
    QUEUED = "queued"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    DECLINED = "declined"
    OFFER_TIMED_OUT = "offer_timed_out"
    OFFER_LOST = "offer_lost"  # the offer's timer was lost with Redis (routing rebuild)
    TRANSFERRED = "transferred"
    WRAPPED_UP = "wrapped_up"
    RESOLVED = "resolved"
    ABANDONED = "abandoned"  # the customer left while waiting (detail: wait_s, short)
    WRAP_UP_CODED = "wrap_up_coded"  # the code chosen in wrap-up after a call ended (detail: code)
    CALL_ENDED = "call_ended"  # the call of an assigned conversation ended: after-call work begins
    CALLED_OUT = "called_out"  # an agent called the customer (an outbound call): hers from the start
    CLOSED = "closed"  # reserved: closing a resolved conversation without a survey answer
    SURVEY_ANSWERED = "survey_answered"  # the customer scored the resolved conversation (detail: score 1-5)
    REOPENED = "reopened"  # staff reopened a resolved conversation: back into its queue (detail: from_state)
    SNOOZED = "snoozed"  # its agent set it aside until a time (detail: until); it stays hers (ADR 0049)
    WOKEN = "woken"  # a snooze ended (detail: reason due, customer or agent)


Edge = tuple[ConversationState | None, ConversationState]  # (from, to); from None: the conversation's creation

# Which edges each event type may label. A transition whose type is not bound to its edge is refused,
# so the events table never says "assigned" for a move into the queue (KPIs count by type).
EDGES: Mapping[EventType, frozenset[Edge]] = {
    EventType.CREATED: frozenset({(None, S.NEW)}),
    EventType.BOT_STARTED: frozenset({(S.NEW, S.BOT)}),
    EventType.QUEUED: frozenset({(S.NEW, S.QUEUED)}),
    EventType.HANDED_OVER: frozenset({(S.BOT, S.QUEUED)}),
    EventType.OFFERED: frozenset({(S.QUEUED, S.OFFERED)}),
    EventType.ASSIGNED: frozenset({(S.OFFERED, S.ASSIGNED)}),
    EventType.DECLINED: frozenset({(S.OFFERED, S.QUEUED)}),
    EventType.OFFER_TIMED_OUT: frozenset({(S.OFFERED, S.QUEUED)}),
    EventType.OFFER_LOST: frozenset({(S.OFFERED, S.QUEUED)}),
    # A supervisor moves a conversation away from the bot or from its agent; never an offered one
    # (its offer lives in Redis and belongs to routing: it is declined or times out).
    EventType.TRANSFERRED: frozenset({(S.BOT, S.QUEUED), (S.ASSIGNED, S.QUEUED)}),
    EventType.WRAPPED_UP: frozenset({(S.ASSIGNED, S.WRAP_UP)}),
    EventType.RESOLVED: frozenset({(S.BOT, S.RESOLVED), (S.QUEUED, S.RESOLVED), (S.ASSIGNED, S.RESOLVED),
                                   (S.WRAP_UP, S.RESOLVED)}),
    EventType.ABANDONED: frozenset({(S.QUEUED, S.ABANDONED), (S.OFFERED, S.ABANDONED)}),
    EventType.CALL_ENDED: frozenset({(S.ASSIGNED, S.WRAP_UP)}),
    EventType.WRAP_UP_CODED: frozenset({(S.WRAP_UP, S.WRAP_UP)}),
    EventType.CALLED_OUT: frozenset({(S.NEW, S.ASSIGNED)}),
    EventType.CLOSED: frozenset({(S.RESOLVED, S.CLOSED)}),
    EventType.SURVEY_ANSWERED: frozenset({(S.RESOLVED, S.CLOSED)}),
    EventType.REOPENED: frozenset({(S.RESOLVED, S.QUEUED)}),
    EventType.SNOOZED: frozenset({(S.ASSIGNED, S.ASSIGNED)}),
    EventType.WOKEN: frozenset({(S.ASSIGNED, S.ASSIGNED)}),
}


def check_event(event_type: EventType | str, current: ConversationState | None, target: ConversationState) -> EventType:
    """Raise :class:`IllegalTransition` unless ``current -> target`` is an edge and ``event_type``
    may label it; returns the type as an :class:`EventType` (callers may pass its string)."""
    if current is not None:
        check_transition(current, target)
    try:
        kind = EventType(event_type)
    except ValueError:
        raise IllegalTransition(f"unknown event type {event_type!r}") from None
    if (current, target) not in EDGES[kind]:
        edges = ", ".join(sorted(f"{a or 'none'}->{b}" for a, b in EDGES[kind]))
        raise IllegalTransition(f"event {kind} cannot label {current or 'none'}->{target}; it labels {edges}")
    return kind
