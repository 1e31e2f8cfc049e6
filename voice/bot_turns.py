"""The voice bot's turns through the hub (implements ``voice.voice_bot.BotTurns``), as chat's are:
the caller's words are stored as the customer's message on the call's conversation and given to
the bot (``SessionInbox``: the same bot service, handover policy and card); the bot's replies are
read back from the conversation's timeline; a conversation that left ``bot`` was handed over."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from hub.call_ports import CallLine, VoiceBotPorts
from hub.clock import Clock
from hub.domain.bot import Button, HandoverReason
from hub.domain.calls import VOICE
from hub.domain.ids import Author, ExternalId
from hub.domain.model import Conversation, InboundMessage
from hub.domain.received import ConversationRef
from hub.domain.states import ConversationState
from hub.ports import MessageLog, SessionInbox
from voice.voice_bot import Answer


class HubBotTurns:
    """One call's turns: ``conversation`` is the call's (held by the bot), ``contact`` its caller."""

    def __init__(self, *, sessions: SessionInbox, history: MessageLog, calls: CallLine, ports: VoiceBotPorts,
                 examples: Callable[[], Awaitable[Sequence[str]]], clock: Clock, call_id: str, caller: str,
                 conversation: Conversation, contact: dict[str, Any]) -> None:
        self._sessions = sessions
        self._history = history
        self._calls = calls
        self._ports = ports
        self._examples = examples
        self._clock = clock
        self._call_id = call_id
        self._caller = caller
        self._conversation = conversation
        self._contact = contact

    async def say(self, conversation_id: str, text: str, *, payload: str | None, turn: int) -> Answer:
        inbound = InboundMessage(channel=VOICE, external_id=ExternalId(f"{self._call_id}:{turn}"), sender=self._caller,
                                 text=text, received_at=self._clock.now(), payload=payload,
                                 meta={"via": "voice_bot"})
        received = await self._sessions.receive(inbound, contact_id=str(self._contact["_id"]),
                                                contact_name=str(self._contact["display_name"]),
                                                known=ConversationRef.of(self._conversation))
        await self._sessions.after_customer_message(received, payload)
        said = received.message
        later = await self._history.timeline(conversation_id, include_private=False, since=said.sent_at)
        replies = tuple((m.text, tuple(Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
                                       for b in m.buttons))
                        for m in later if m.author is Author.BOT and m.id != said.id)
        self._conversation = await self._calls.conversation(conversation_id)
        return Answer(replies=replies, handed_over=self._conversation.state is not ConversationState.BOT)

    async def give_up(self, conversation_id: str, reason: HandoverReason) -> None:
        await self._ports.hand_over(conversation_id, reason)

    async def examples(self, language: str) -> Sequence[str]:
        return await self._examples()
