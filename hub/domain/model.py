"""Frozen domain values. Their ``repr`` never contains message text or contact details."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from hub.domain.events import EventType
from hub.domain.ids import (
    AgentId,
    AgentStatus,
    Author,
    ChannelName,
    ContactId,
    ConversationId,
    DeliveryStatus,
    ExternalId,
    MessageId,
    QueueId,
    Role,
    Skill,
)
from hub.domain.states import ConversationState

NO_DETAIL: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact:
    """A customer; identities (web visitor, phone, e-mail, Telegram id) link to one contact."""

    id: ContactId
    display_name: str
    identities: tuple[str, ...]
    created_at: datetime

    def __repr__(self) -> str:
        return f"Contact({self.id})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Conversation:
    """One contact's issue, across whatever channels it crosses. ``version`` orders its events."""

    id: ConversationId
    contact_id: ContactId
    channel: ChannelName
    state: ConversationState
    version: int
    queue: QueueId | None
    priority: int
    skills: frozenset[Skill]
    agent_id: AgentId | None
    created_at: datetime
    updated_at: datetime
    queued_at: datetime | None = None
    wrap_up_code: str | None = None
    language: str = "en"
    multichannel: bool = False  # the customer also wrote from another channel than ``channel``
    snoozed_until: datetime | None = None  # set aside by its agent until then (hub.domain.snooze)


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A file a customer sent (e-mail attachment, Telegram photo or document), before it is stored."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachmentRef:
    """A stored attachment as messages refer to it; the bytes are fetched by ``id``."""

    id: str
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundMessage:
    """A customer message as a channel adapter parsed it. ``(channel, external_id)`` is its key.

    ``meta`` carries what a channel needs to answer in kind (an e-mail's subject and Message-ID
    chain); ``payload`` is a quick-reply button the customer pressed (Telegram callback data)."""

    channel: ChannelName
    external_id: ExternalId
    sender: str  # the channel address: web visitor id, phone number, e-mail address
    text: str
    received_at: datetime
    sender_name: str | None = None
    meta: Mapping[str, str] = field(default_factory=lambda: NO_DETAIL)
    attachments: tuple[Attachment, ...] = ()
    payload: str | None = None

    def __repr__(self) -> str:
        return f"InboundMessage({self.channel}:{self.external_id})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """A stored message of a conversation, from any author; ``private`` notes never leave the hub."""

    id: MessageId
    conversation_id: ConversationId
    channel: ChannelName
    author: Author
    author_id: str | None
    author_name: str
    text: str
    sent_at: datetime
    status: DeliveryStatus
    private: bool = False
    external_id: ExternalId | None = None
    buttons: tuple[Mapping[str, str], ...] = ()  # quick replies: {"title", "payload"}
    address: str | None = None  # the customer's address on ``channel``: sender or recipient
    meta: Mapping[str, str] = field(default_factory=lambda: NO_DETAIL)
    attachments: tuple[AttachmentRef, ...] = ()

    def __repr__(self) -> str:
        return f"Message({self.id} conv={self.conversation_id} author={self.author})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationEvent:
    """An immutable fact: one transition of one conversation. The table every KPI is computed from."""

    conversation_id: ConversationId
    version: int
    type: EventType  # past tense, bound to its edges (hub.domain.events.EDGES)
    from_state: ConversationState | None
    to_state: ConversationState
    at: datetime
    channel: ChannelName
    queue: QueueId | None = None
    agent_id: AgentId | None = None
    actor: str | None = None
    detail: Mapping[str, str] = field(default_factory=lambda: NO_DETAIL)


@dataclass(frozen=True, slots=True, kw_only=True)
class Agent:
    """A console user. ``capacity`` is per channel: how many conversations at once."""

    id: AgentId
    username: str
    display_name: str
    role: Role
    skills: frozenset[Skill]
    capacity: Mapping[str, int]
    password_hash: str = field(repr=False)
    status: AgentStatus = AgentStatus.OFFLINE
    disabled: bool = False  # cannot log in; an admin's or the CLI's decision
    pause_reason: str | None = None  # the reason code while ``status`` is paused
    status_since: datetime | None = None  # when she entered her current status (and reason)
    # A team leader's team: the members of the teams she leads (the directory fills it in when it
    # reads her; hub.domain.visibility lets her see their conversations). Empty for other roles.
    leads: frozenset[AgentId] = frozenset()
    department: str | None = None  # a department user's department (role ``department``): its work orders
    language: str | None = None  # the console's language she chose (``CONSOLE_LANGUAGES``); None: her browser's


CONSOLE_LANGUAGES = frozenset({"zh", "en"})  # the console's own text (ADR 0048)


@dataclass(frozen=True, slots=True, kw_only=True)
class Team:
    """A group of agents under a team leader (role ``team_leader``), who sees them live.

    An agent is a member of at most one team (``hub.teams`` checks it)."""

    id: str
    name: str
    leader_id: AgentId
    member_ids: frozenset[AgentId]


@dataclass(frozen=True, slots=True, kw_only=True)
class Department:
    """Where work orders are dispatched (a repair crew, customer relations, metering, billing);
    users of role ``department`` belong to one and see its orders only."""

    id: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Queue:
    """A waiting line with the skills an agent needs to serve it."""

    id: QueueId
    name: str
    skills: frozenset[Skill]
    priority: int = 0
    # Weekly business hours in the centre's zone, ``{"mon": "08:00-20:00"}`` (hub/domain/business_hours.py);
    # empty: always open.
    hours: Mapping[str, str] = field(default_factory=lambda: NO_DETAIL)


@dataclass(frozen=True, slots=True, kw_only=True)
class CannedReply:
    id: str
    title: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WrapUpCode:
    code: str
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredAttachment:
    """A stored file with the conversation it belongs to (what a download needs to check and serve)."""

    id: str
    conversation_id: str
    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginSession:
    """A console login session as stored (the token itself is never stored, only its digest)."""

    agent_id: str
    csrf_token: str = field(repr=False)
    expires_at: datetime
