"""Phone calls as the hub keeps them: one record per call beside its conversation, and the pure
decisions about what a call's events mean for the conversation. No I/O; times are passed in.

A call is a session of the ``voice`` channel: every call starts its own conversation (it does not
join the contact's open chat), queued by the menu choice like any other work. What the PBX says
(ringing, answered, held, hung up by whom) is stored as steps of the call record; what changes the
conversation (abandoned, answered, call ended) is a transition on the event table.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.domain.ids import AgentId, ChannelName, ConversationId
from hub.domain.states import ConversationState

S = ConversationState


class Party(enum.StrEnum):
    """Who ended a call (``CallEnded.by``)."""

    CALLER = "caller"
    AGENT = "agent"
    SYSTEM = "system"  # the hub or the PBX (transfer, restart, reconciliation)


class Step(enum.StrEnum):
    """What happened on a call: the call's timeline in the console."""

    ARRIVED = "arrived"        # the PBX handed the call to the hub's menu
    BOT = "bot"                # the voice bot answers the call (detail: language)
    OUTBOUND = "outbound"      # an agent called the customer from the console (detail: agent_id)
    MENU = "menu"              # the caller's choice (detail: choice, queue)
    QUEUED = "queued"
    RINGING = "ringing"        # an agent's phone rings (detail: agent_id)
    NO_ANSWER = "no_answer"    # that phone did not answer in time, or refused
    ANSWERED = "answered"      # the agent answered: talking
    HELD = "held"
    RESUMED = "resumed"
    TRANSFERRED = "transferred"  # blind transfer to a queue or an agent
    CALLBACK = "callback"      # the caller asked to be called back and hung up, keeping the place
    DIALING = "dialing"        # a call back: the agent answered, the customer's phone is dialled
    CONNECTED = "connected"    # the customer answered the call back
    HUNG_UP = "hung_up"        # detail: by
    LOST = "lost"              # the PBX lost the call while the hub was away (reconciliation)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallStep:
    at: datetime
    step: Step
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRecord:
    """One call. ``call_id`` is the first customer channel's unique id in the PBX; ``caller_channel``
    the channel name of the customer's current leg that the PBX acts on (redirect, hang up, bridge),
    None while a call back waits for an agent (the customer hung up and will be dialled)."""

    call_id: str
    conversation_id: ConversationId
    caller: str  # the caller's number as the PBX gave it (personal data: never logged)
    caller_channel: str | None
    started_at: datetime
    choice: str | None = None
    agent_id: AgentId | None = None
    agent_leg: str | None = None  # the PBX's unique id of the agent's leg (ringing or talking)
    answered_at: datetime | None = None
    held_since: datetime | None = None
    hold_s: float = 0.0
    ended_at: datetime | None = None
    ended_by: Party | None = None
    callback: bool = False  # the customer is dialled once an agent answered (a call back, an outbound call)
    outbound: bool = False  # an agent started it from the console
    recordings: tuple[str, ...] = ()  # base names, one per answered leg (``<name>.wav``, ``-caller``, ``-agent``)
    steps: tuple[CallStep, ...] = ()

    @property
    def live(self) -> bool:
        return self.ended_at is None

    @property
    def awaiting_callback(self) -> bool:
        """The customer asked to be called back and no agent has answered yet."""
        return self.callback and self.answered_at is None and self.live

    def talk_s(self, now: datetime) -> float | None:
        """From answer to hang-up (or ``now``), hold included (AHT adds after-call work)."""
        if self.answered_at is None:
            return None
        return max(0.0, ((self.ended_at or now) - self.answered_at).total_seconds())


class AfterHangup(enum.Enum):
    """What the end of a call means for its conversation."""

    ABANDONED = "abandoned"  # waiting (queued, or an agent's phone ringing): the customer gave up
    WRAP_UP = "wrap_up"      # talking with an agent: after-call work begins
    BOT_DONE = "bot_done"    # the voice bot held the call: the caller had what they needed
    NOTHING = "nothing"      # already finished


def after_hangup(state: ConversationState) -> AfterHangup:
    """Pure: the conversation's next step when its call ends in ``state`` (a call back waiting for
    an agent does not end when the customer hangs up: ``CallSide.hung_up`` keeps it)."""
    if state in (S.QUEUED, S.OFFERED):
        return AfterHangup.ABANDONED
    if state is S.ASSIGNED:
        return AfterHangup.WRAP_UP
    if state is S.BOT:
        return AfterHangup.BOT_DONE
    return AfterHangup.NOTHING


def is_short_abandon(wait_s: float, threshold_s: float) -> bool:
    """A caller who hung up within ``threshold_s`` of joining the queue (a misdial, or one who
    hears the wait announcement and leaves at once): counted apart in the service level."""
    return wait_s < threshold_s


VOICE: ChannelName = "voice"  # the channel of calls (their conversations and the phone identity)
