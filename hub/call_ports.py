"""The ports of phone calls, between the conversation core, the voice line (``voice/``) and the console.

- ``CallLine``: what the voice line tells the core (a call arrived, rang, was answered, held, ended);
  implemented by ``hub.conversations.calls.CallSide``.
- ``CallRouting``: what the core needs of the ACD for calls; implemented by ``routing.service``.
- ``CallRecords``: the call records (``hub.storage.calls``).
- ``CallControl``: what an agent asks of her call from the console (hold, resume, transfer, hang
  up); implemented by ``voice.line``, which acts through the PBX.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hub.domain.bot import HandoverReason
from hub.domain.calls import CallRecord, CallStep, Party
from hub.domain.model import Agent, Conversation


class CallRecords(Protocol):
    async def open(self, call: CallRecord) -> bool: ...

    async def get(self, call_id: str) -> CallRecord | None: ...

    async def of_conversation(self, conversation_id: str) -> CallRecord | None: ...

    async def live(self) -> list[CallRecord]: ...

    async def note(self, call_id: str, step: CallStep, changes: Mapping[str, Any] | None = None, *,
                   unless_ended: bool = False, recording: str | None = None) -> CallRecord | None: ...


class CallRouting(Protocol):
    async def accept(self, agent: Agent, conversation_id: str) -> Conversation: ...

    async def not_answered(self, agent: Agent, conversation_id: str) -> Conversation: ...

    async def abandon(self, conversation: Conversation) -> None: ...

    async def on_a_call(self, agent: Agent) -> bool: ...

    async def hold_outbound(self, conversation: Conversation) -> None: ...


class CallLine(Protocol):
    async def arrived(self, *, call_id: str, caller: str, caller_channel: str, choice: str | None,
                      queue_id: str, callback: bool = False, menu_s: float = 0.0) -> Conversation: ...

    async def bot_arrived(self, *, call_id: str, caller: str, caller_channel: str, language: str,
                          recording: str | None) -> Conversation: ...

    async def conversation(self, conversation_id: str) -> Conversation: ...

    async def outbound(self, agent: Agent, contact_id: str) -> CallRecord: ...

    async def ringing(self, call_id: str, agent_id: str, agent_leg: str | None) -> CallRecord | None: ...

    async def answered(self, call_id: str, agent_id: str, agent_leg: str | None,
                       recording: str | None = None) -> Conversation: ...

    async def not_answered(self, call_id: str, agent_id: str, reason: str) -> None: ...

    async def dialing(self, call_id: str) -> None: ...

    async def connected(self, call_id: str, caller_channel: str) -> CallRecord | None: ...

    async def held(self, call_id: str, held: bool) -> CallRecord | None: ...

    async def transferred(self, call_id: str, agent: Agent, queue_id: str) -> Conversation: ...

    async def hung_up(self, call_id: str, by: Party, *, lost: bool = False) -> CallRecord | None: ...

    async def call(self, call_id: str) -> CallRecord | None: ...

    async def call_of(self, conversation_id: str) -> CallRecord | None: ...

    async def live_calls(self) -> list[CallRecord]: ...


class CallControl(Protocol):
    """Raises ``NotFound`` (no call of hers), ``IllegalTransition`` (not in a state for it) or
    ``ServiceUnavailable`` (the PBX is not reachable)."""

    async def hold(self, agent: Agent, conversation_id: str) -> None: ...

    async def resume(self, agent: Agent, conversation_id: str) -> None: ...

    async def hang_up(self, agent: Agent, conversation_id: str) -> None: ...

    async def transfer(self, agent: Agent, conversation_id: str, queue_id: str) -> None: ...

    async def call_customer(self, agent: Agent, contact_id: str) -> str:
        """Ring her phone, then the contact's number; returns the new conversation's id."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceBotPorts:
    """What the voice bot (``voice.voice_bot``) needs of the bot besides the conversation core:
    ``hand_over`` a conversation with the bot's card when the caller could not be understood
    (``bot.service.BotService.hand_over``), and the trainers' curated ``examples`` (their texts), from
    which the recognition grammar is built."""

    hand_over: Callable[[str, HandoverReason], Awaitable[None]]
    examples: Callable[[], Awaitable[Sequence[str]]]
