"""Typed events: the conversation event types bound to their state-machine edges, the live facts
that are not transitions, and their one wire format (JSON with a version field ``v``).

Pure: no I/O. ``hub.bus`` encodes every fact it publishes with :func:`encode` and hands every
subscriber the value :meth:`FactDecoder.decode` returns.

Extension point (voice, surveys, work orders): a new live fact is a frozen dataclass subclassing
:class:`Fact` (call facts subclass :class:`CallFact`) with its own ``KIND``, added to ``KINDS``
below. Field types the codec understands: ``str`` and its ``NewType`` ids, ``bool``, ``int``,
``float``, ``StrEnum``s, ``datetime``, ``frozenset[str]``, ``Mapping[str, Any]`` (JSON as is),
and any of them ``| None``. A process that does not know a kind (an older one during a rolling
upgrade) logs it once and skips it, so adding a kind never needs a lock-step deployment.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from hub.domain.ids import AgentId, AgentStatus, Author, ConversationId, DeliveryStatus, MessageId
from hub.domain.states import ConversationState, check_transition
from hub.errors import IllegalTransition

logger = logging.getLogger(__name__)

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


# -- live facts --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    """A live fact on the bus: at most once, never the only copy of anything (MongoDB is the truth).

    Subclasses set ``KIND`` (the wire name) and are listed in ``KINDS``. Mapping fields hold JSON
    (the api.md shapes) and are read-only by convention.
    """

    KIND: ClassVar[str] = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageStored(Fact):
    """A message was stored (customer, bot, agent or private note). ``message`` is api.md's
    ``Message`` with ``private``; ``holder`` the agent holding the conversation as the publisher
    knew it (the console uses it when it has seen no transition of the conversation)."""

    KIND: ClassVar[str] = "message"
    conversation_id: ConversationId
    holder: AgentId | None
    message: Mapping[str, Any]

    @property
    def author(self) -> Author:
        return Author(self.message["author"])

    @property
    def private(self) -> bool:
        return bool(self.message.get("private"))

    def __repr__(self) -> str:  # no message text in logs
        return f"MessageStored(conv={self.conversation_id} id={self.message.get('id')})"


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChanged(Fact):
    """A message's delivery status moved forward (receipt, DLR, outbox result)."""

    KIND: ClassVar[str] = "status"
    conversation_id: ConversationId
    message_id: MessageId
    status: DeliveryStatus
    author: Author  # whose message it is


@dataclass(frozen=True, slots=True, kw_only=True)
class TypingChanged(Fact):
    KIND: ClassVar[str] = "typing"
    conversation_id: ConversationId
    who: Author
    active: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class PresenceChanged(Fact):
    """An agent's routing status was set (console, the hub's missed-offers rule or heartbeat
    re-registration); ``reason``: a pause's reason code."""

    KIND: ClassVar[str] = "presence"
    agent_id: AgentId
    status: AgentStatus
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationChanged(Fact):
    """A transition was stored. ``summary`` is api.md's ``Summary`` after it (what inboxes show);
    ``previous_agent`` the agent before it."""

    KIND: ClassVar[str] = "conversation"
    event: EventType
    version: int
    summary: Mapping[str, Any]
    previous_agent: AgentId | None

    @property
    def conversation_id(self) -> ConversationId:
        return ConversationId(self.summary["id"])

    @property
    def state(self) -> ConversationState:
        return ConversationState(self.summary["state"])

    @property
    def agent_id(self) -> AgentId | None:
        return AgentId(self.summary["agent_id"]) if self.summary.get("agent_id") else None

    def __repr__(self) -> str:  # the summary holds the contact's name and the preview
        return f"ConversationChanged(conv={self.summary.get('id')} {self.event} v{self.version})"


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferMade(Fact):
    """Routing offered the conversation to the agent until ``expires_at``. Its summary is the
    ``ConversationChanged`` of the ``offered`` transition, published just before by the same process."""

    KIND: ClassVar[str] = "offer"
    conversation_id: ConversationId
    agent_id: AgentId
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferWithdrawn(Fact):
    KIND: ClassVar[str] = "offer_withdrawn"
    conversation_id: ConversationId
    agent_id: AgentId


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingKicked(Fact):
    """New work or a freed agent: every assigner runs a round now instead of at its next tick."""

    KIND: ClassVar[str] = "kick"


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSessionsRevoked(Fact):
    """The agent's console sessions were deleted: drop cached sessions, close her sockets."""

    KIND: ClassVar[str] = "agent_sessions_revoked"
    agent_id: AgentId


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFact(Fact):
    """Base of the voice facts (call started, answered, held, ended, a voice-bot turn's timings).

    Not registered itself. Voice adds subclasses with their own ``KIND`` to ``KINDS``; a subscriber
    of ``CallFact`` receives every one of them (the bus dispatches along the class hierarchy).
    """

    call_id: str
    conversation_id: ConversationId | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRinging(CallFact):
    """An agent's phone rings for the call (the ACD offered it to her)."""

    KIND: ClassVar[str] = "call_ringing"
    agent_id: AgentId


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAnswered(CallFact):
    KIND: ClassVar[str] = "call_answered"
    agent_id: AgentId


@dataclass(frozen=True, slots=True, kw_only=True)
class CallHeld(CallFact):
    """The agent put the caller on hold (``held``) or took the caller back."""

    KIND: ClassVar[str] = "call_held"
    agent_id: AgentId | None
    held: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEnded(CallFact):
    """The call is over; ``by`` is ``caller``, ``agent`` or ``system`` (hub.domain.calls.Party)."""

    KIND: ClassVar[str] = "call_ended"
    agent_id: AgentId | None
    by: str
    talk_s: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallCommand(CallFact):
    """A console asks the process that holds the PBX connection to act on a call: ``hold``,
    ``resume``, ``hangup`` or ``transfer`` (``target``: ``queue:<id>`` or ``agent:<id>``)."""

    KIND: ClassVar[str] = "call_command"
    action: str
    agent_id: AgentId
    target: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkOrderChanged(Fact):
    """A work order moved (``hub.work_orders``): an action, an SLA warning or breach, a survey fact.
    The order's document is the durable record; this only tells consoles and wakes the sweep."""

    KIND: ClassVar[str] = "work_order"
    order_id: str
    number: str
    action: str
    state: str
    version: int
    department: str | None
    conversation_id: ConversationId | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactChanged(Fact):
    """A contact was renamed, given an identity or attributes, or merged (``hub.contacts``).
    Ids only, no personal data: a console showing the contact reads it again through the
    visibility rule. ``change``: ``renamed``, ``identity_linked``, ``attributes`` or ``merged``
    (then ``merged_from`` is the contact that became a tombstone)."""

    KIND: ClassVar[str] = "contact"
    contact_id: str
    change: str
    merged_from: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyAsked(Fact):
    """A satisfaction survey was asked on a store-and-forward channel (``hub.surveys.service``):
    messages from its address may answer it until ``expires_at``. ``key_digest`` is
    ``hub.domain.surveys.key_digest`` of the customer's address key, not the address itself."""

    KIND: ClassVar[str] = "survey_asked"
    conversation_id: ConversationId
    key_digest: str
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyCallDue(Fact):
    """A closed work order's callback survey is to be asked by phone (``hub.work_orders.survey_calls``):
    the process holding the PBX line calls the customer. ``version``: the order's, with the attempt."""

    KIND: ClassVar[str] = "survey_call_due"
    order_id: str
    version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceTurnTimed(CallFact):
    """One voice-bot turn's latency, split as voice-agent frameworks do (LiveKit, Pipecat):
    ``detection_ms`` end of the caller's speech -> end of turn decided (endpointing),
    ``recognition_ms`` -> the final transcript, ``bot_ms`` -> the bot's answer (Rasa and the hub),
    ``synthesis_ms`` -> the reply's audio ready, and ``total_ms`` end of speech -> the first audio
    sent back (the sum plus what playback adds). ``source``: ``speech``, or ``dtmf`` (a key press:
    no detection, no recognition)."""

    KIND: ClassVar[str] = "voice_turn"
    turn: int
    source: str
    detection_ms: float
    recognition_ms: float
    bot_ms: float
    synthesis_ms: float
    total_ms: float


@dataclass(frozen=True, slots=True, kw_only=True)
class BusResubscribed(Fact):
    """Local only, never published (not in ``KINDS``): this process's bus listens again after a gap
    (Redis restarted or the connection dropped), so facts published meanwhile are lost. A subscriber
    of this kind gets it in its own queue, in order with its facts, and re-reads what it keeps live
    (ADR 0060)."""

    KIND: ClassVar[str] = "bus.resubscribed"


def _registry(classes: Iterable[type[Fact]]) -> Mapping[str, type[Fact]]:
    kinds: dict[str, type[Fact]] = {}
    for cls in classes:
        if not cls.KIND or cls.KIND in kinds:
            raise ValueError(f"fact kind {cls.KIND!r} of {cls.__name__} is empty or taken")
        kinds[cls.KIND] = cls
    return kinds


KINDS: Mapping[str, type[Fact]] = _registry([
    MessageStored, StatusChanged, TypingChanged, PresenceChanged, ConversationChanged, OfferMade, OfferWithdrawn,
    RoutingKicked, AgentSessionsRevoked, CallRinging, CallAnswered, CallHeld, CallEnded, CallCommand,
    VoiceTurnTimed,
    WorkOrderChanged, SurveyCallDue, ContactChanged, SurveyAsked,
])

# -- the wire -----------------------------------------------------------------------------------------

WIRE_VERSION = 1  # raise it when a kind changes incompatibly; older processes then skip that kind


def encode(fact: Fact) -> str:
    """One fact as compact JSON: ``{"v": 1, "kind": ..., <fields>}``."""
    data: dict[str, Any] = {"v": WIRE_VERSION, "kind": fact.KIND}
    for f in dataclasses.fields(fact):
        data[f.name] = _wire_value(getattr(fact, f.name))
    return json.dumps(data, separators=(",", ":"))


def _wire_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


Convert = Callable[[Any], Any]


class FactDecoder:
    """Wire JSON to typed facts. Never raises for what another process sent: a kind it does not
    know, a newer ``v`` or a malformed fact is logged once per kind and skipped (``None``)."""

    def __init__(self, kinds: Mapping[str, type[Fact]] = KINDS) -> None:
        self._kinds = dict(kinds)
        self._fields = {kind: _field_converters(cls) for kind, cls in self._kinds.items()}
        self._reported: set[str] = set()
        self.skipped = 0

    def decode(self, data: bytes | str) -> Fact | None:
        try:
            raw = json.loads(data)
        except (ValueError, RecursionError):
            return self._skip("(not json)", "bus.fact.malformed")
        if not isinstance(raw, dict):
            return self._skip("(not an object)", "bus.fact.malformed")
        kind, version = raw.get("kind"), raw.get("v")
        if not isinstance(kind, str) or kind not in self._kinds:
            return self._skip(str(kind if kind is not None else f"(no kind; t={raw.get('t')})"), "bus.fact.unknown")
        if not isinstance(version, int) or version > WIRE_VERSION:
            return self._skip(f"{kind}@v{version}", "bus.fact.newer_version")
        try:
            values = {name: convert(raw[name]) for name, convert in self._fields[kind]}
            return self._kinds[kind](**values)
        except (KeyError, TypeError, ValueError):
            return self._skip(kind, "bus.fact.malformed")

    def _skip(self, kind: str, key: str) -> Fact | None:
        self.skipped += 1
        if f"{key}:{kind}" not in self._reported:
            self._reported.add(f"{key}:{kind}")
            logger.warning("%s kind=%s (skipped; logged once per kind)", key, kind)
        return None


def _field_converters(cls: type[Fact]) -> list[tuple[str, Convert]]:
    hints = typing.get_type_hints(cls)
    return [(f.name, _converter(hints[f.name])) for f in dataclasses.fields(cls)]


def _converter(hint: Any) -> Convert:
    """How a JSON value becomes a field of type ``hint``; raises TypeError/ValueError when it cannot."""
    args = typing.get_args(hint)
    if (typing.get_origin(hint) in (typing.Union, types.UnionType)) and type(None) in args:
        inner = _converter(next(a for a in args if a is not type(None)))
        return lambda value: None if value is None else inner(value)
    supertype = getattr(hint, "__supertype__", None)
    if supertype is not None:  # a NewType id
        return _converter(supertype)
    origin = typing.get_origin(hint) or hint
    if isinstance(origin, type) and issubclass(origin, enum.Enum):
        return origin
    if origin is frozenset:
        return lambda value: frozenset(_expect(value, list))
    if origin in (dict, Mapping):
        return lambda value: _expect(value, dict)
    if origin is datetime:
        return lambda value: datetime.fromisoformat(_expect(value, str))
    if origin is bool:
        return lambda value: _expect(value, bool)
    if origin is float:
        return lambda value: float(_expect(value, (int, float)))
    if origin in (int, str):
        return lambda value: _expect(value, origin)
    raise TypeError(f"the fact codec cannot carry {hint!r}")


def _expect(value: Any, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise TypeError(f"expected {kind}")
    return value
