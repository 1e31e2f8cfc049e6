"""The conversation state machine of DESIGN.md: states, legal transitions, and the refusal."""

from __future__ import annotations

import enum

from hub.errors import IllegalTransition


class ConversationState(enum.StrEnum):
    NEW = "new"
    BOT = "bot"
    QUEUED = "queued"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    WRAP_UP = "wrap_up"
    RESOLVED = "resolved"
    ABANDONED = "abandoned"  # the customer left while waiting (a caller hung up in the queue)
    CLOSED = "closed"


S = ConversationState

# Each edge is a fact of the flow diagram:
#   new -> bot (a bot is in front) | queued (no bot, or channel without bot)
#        | assigned (an agent called the customer: the conversation is hers from the start)
#   bot -> resolved (contained) | queued (handover)
#   queued -> offered (ACD found an agent) | abandoned (the caller hung up while waiting)
#   offered -> assigned (accepted) | queued (declined / timed out / agent went away) | abandoned
#   assigned -> wrap_up | resolved | queued (transfer) | assigned (snoozed or woken: she keeps it)
#   wrap_up -> resolved | wrap_up (the one edge onto itself: the wrap-up code chosen after a call's
#   end put the conversation there, recorded as its own event)
#   resolved -> closed (after the survey). A customer who writes after resolution starts a new
#   conversation; staff may reopen a resolved one (console search, issue 16): it goes back into
#   its queue, like a transfer. Closed (surveyed) stays final.
TRANSITIONS: dict[ConversationState, frozenset[ConversationState]] = {
    S.NEW: frozenset({S.BOT, S.QUEUED, S.ASSIGNED}),
    S.BOT: frozenset({S.QUEUED, S.RESOLVED}),
    S.QUEUED: frozenset({S.OFFERED, S.RESOLVED, S.ABANDONED}),
    S.OFFERED: frozenset({S.ASSIGNED, S.QUEUED, S.ABANDONED}),
    S.ASSIGNED: frozenset({S.WRAP_UP, S.RESOLVED, S.QUEUED, S.ASSIGNED}),
    S.WRAP_UP: frozenset({S.RESOLVED, S.WRAP_UP}),
    S.RESOLVED: frozenset({S.CLOSED, S.QUEUED}),
    S.ABANDONED: frozenset(),
    S.CLOSED: frozenset(),
}

OPEN_STATES = frozenset({S.NEW, S.BOT, S.QUEUED, S.OFFERED, S.ASSIGNED, S.WRAP_UP})
HELD_BY_AGENT = frozenset({S.ASSIGNED, S.WRAP_UP})


def check_transition(current: ConversationState, target: ConversationState) -> None:
    """Raise :class:`IllegalTransition` unless ``current -> target`` is an edge of the machine."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final state)"
        raise IllegalTransition(f"cannot go from {current} to {target}; allowed: {allowed}")
