"""The live facts on the bus (``hub.bus``): frozen dataclasses, each with its wire ``KIND``. Pure;
re-exported by ``hub.domain.events``, which says how to add one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from hub.domain.event_types import EventType
from hub.domain.ids import AgentId, AgentStatus, Author, ConversationId, DeliveryStatus, MessageId
from hub.domain.states import ConversationState


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
class MessagesDelivered(Fact):
    """Customer messages that reached their agents' consoles, a whole receipt batch in one fact
    (ADR 0062): ``message_ids[i]`` of ``conversation_ids[i]``; subscribers read it as ``statuses()``."""

    KIND: ClassVar[str] = "delivered"
    conversation_ids: tuple[str, ...]
    message_ids: tuple[str, ...]

    def statuses(self) -> list[StatusChanged]:
        return [StatusChanged(conversation_id=ConversationId(c), message_id=MessageId(m),
                              status=DeliveryStatus.DELIVERED, author=Author.CUSTOMER)
                for c, m in zip(self.conversation_ids, self.message_ids, strict=False)]


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
class OutageNoticeStarted(Fact):
    """A supervisor started an outage's SMS notice (``hub.outages.OutageDesk.start_notice``): the
    process holding the notice sender's lease sends it now rather than at its next look."""

    KIND: ClassVar[str] = "outage_notice_started"
    notice_id: str


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
