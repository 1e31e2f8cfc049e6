"""Typed identifiers and the fixed vocabularies (channels, roles, statuses)."""

from __future__ import annotations

import enum
import secrets
from typing import Literal, NewType, get_args

ConversationId = NewType("ConversationId", str)
MessageId = NewType("MessageId", str)
ContactId = NewType("ContactId", str)
AgentId = NewType("AgentId", str)
QueueId = NewType("QueueId", str)
ExternalId = NewType("ExternalId", str)
Skill = NewType("Skill", str)

ChannelName = Literal["webchat", "sms", "email", "telegram", "voice"]
CHANNELS: tuple[ChannelName, ...] = get_args(ChannelName)


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    TRAINER = "trainer"
    ADMIN = "admin"
    TEAM_LEADER = "team_leader"  # an agent who also sees her team's members and their conversations
    DEPARTMENT = "department"  # a department's user: its work orders only (Agent.department), no conversations


class AgentStatus(enum.StrEnum):
    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"
    PAUSED = "paused"  # with a reason code (hub.domain.agent_states); never routed to, like away


class Author(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"  # stored, waiting in the outbox for its channel (SMS, e-mail, Telegram)
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"

    def rank(self) -> int:
        """Statuses only move forward: a late 'delivered' never overwrites 'read'."""
        return _STATUS_RANK[self]


_STATUS_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
    DeliveryStatus.FAILED: 4,
}


def new_id(prefix: str) -> str:
    """A random, URL-safe identifier with a readable type prefix (``c_…``, ``m_…``)."""
    return f"{prefix}_{secrets.token_urlsafe(12)}"
