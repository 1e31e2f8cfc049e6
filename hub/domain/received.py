"""What a channel learns of a customer message it handed in, and what a live session remembers."""

from __future__ import annotations

from dataclasses import dataclass

from hub.domain.ids import AgentId, ChannelName, ConversationId
from hub.domain.model import Conversation, Message
from hub.domain.states import ConversationState


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """What a channel session remembers of its open conversation between messages."""

    id: ConversationId
    state: ConversationState
    agent_id: AgentId | None
    channel: ChannelName | None = None  # where the conversation started, when the caller knows it

    @classmethod
    def of(cls, conversation: Conversation) -> ConversationRef:
        return cls(conversation.id, conversation.state, conversation.agent_id, conversation.channel)


@dataclass(frozen=True, slots=True)
class Received:
    """A customer message as stored (``duplicate``: it was stored before) and its conversation."""

    message: Message
    conversation: ConversationRef
    duplicate: bool
