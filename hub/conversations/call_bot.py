"""The voice bot answers a call: a conversation on the voice channel held by the bot (``bot``) until it
hands over (into our ACD like any handover) or the caller hangs up (resolved), and a call record whose
steps start with ``arrived`` and ``bot`` and whose first recording is the bot part."""

from __future__ import annotations

from hub.call_ports import CallRecords
from hub.conversations.core import ConversationCore
from hub.conversations.transitions import Transitions
from hub.domain.calls import VOICE, CallRecord, CallStep, Step
from hub.domain.contacts import default_contact_name, inbound_key
from hub.domain.events import EventType
from hub.domain.ids import ContactId, ConversationId, new_id
from hub.domain.model import Conversation
from hub.domain.states import ConversationState
from hub.storage.contacts import MongoContactStore

S = ConversationState


async def start_bot_call(core: ConversationCore, transitions: Transitions, contacts: MongoContactStore,
                         calls: CallRecords, *, call_id: str, caller: str, caller_channel: str, language: str,
                         recording: str | None) -> Conversation:
    """A repeat (the PBX asked twice) returns the first call's conversation."""
    earlier = await calls.get(call_id)
    if earlier is not None:
        return await core.conversations.get(earlier.conversation_id)
    now = core.clock.now()
    contact = await contacts.ensure(inbound_key(VOICE, caller), default_contact_name(VOICE, caller), now)
    conversation = await core.conversations.create(Conversation(
        id=ConversationId(new_id("c")), contact_id=ContactId(contact["_id"]), channel=VOICE, state=S.NEW,
        version=0, queue=None, priority=0, skills=frozenset(), agent_id=None, created_at=now, updated_at=now,
    ), contact_name=contact["display_name"], actor="customer")
    await calls.open(CallRecord(
        call_id=call_id, conversation_id=conversation.id, caller=caller, caller_channel=caller_channel,
        started_at=now, choice=None, callback=False, recordings=(recording,) if recording else (),
        steps=(CallStep(at=now, step=Step.ARRIVED), CallStep(at=now, step=Step.BOT, detail={"language": language}))))
    return await transitions.transition(conversation, S.BOT, EventType.BOT_STARTED, actor="system",
                                        detail={"call_id": call_id})


class BotCallSide:
    """``CallLine``'s voice-bot part, mixed into ``hub.conversations.calls.CallSide``."""

    _core: ConversationCore
    _transitions: Transitions
    _contacts: MongoContactStore
    _calls: CallRecords

    async def bot_arrived(self, *, call_id: str, caller: str, caller_channel: str, language: str,
                          recording: str | None) -> Conversation:
        return await start_bot_call(self._core, self._transitions, self._contacts, self._calls, call_id=call_id,
                                    caller=caller, caller_channel=caller_channel, language=language,
                                    recording=recording)

    async def conversation(self, conversation_id: str) -> Conversation:
        return await self._core.conversations.get(conversation_id)
