"""An agent calls a customer from the console: a conversation on the voice channel that is hers from
the start (``called_out``), counted in her load, and a call record whose customer is dialled once her
own phone answers (as a call back)."""

from __future__ import annotations

from hub.call_ports import CallRecords, CallRouting
from hub.conversations.core import ConversationCore
from hub.conversations.transitions import Transitions
from hub.domain.calls import VOICE, CallRecord, CallStep, Step
from hub.domain.contacts import PHONE_IDENTITY_CHANNEL, parse_key
from hub.domain.events import EventType
from hub.domain.ids import ContactId, ConversationId, new_id
from hub.domain.model import Agent, Conversation
from hub.domain.states import ConversationState
from hub.errors import IllegalTransition, InvalidInput, NotFound
from hub.storage.contacts import MongoContactStore


async def start_outbound_call(core: ConversationCore, transitions: Transitions, contacts: MongoContactStore,
                              router: CallRouting, calls: CallRecords, agent: Agent, contact_id: str) -> CallRecord:
    """Raises ``NotFound`` (no such contact), ``InvalidInput`` (no phone number) or
    ``IllegalTransition`` (she is on a call already)."""
    contact = await contacts.get(contact_id)
    if contact is None or contact.get("merged_into"):
        raise NotFound("no such contact")
    numbers = [parse_key(k).address for k in contact.get("identities", [])
               if parse_key(k).channel == PHONE_IDENTITY_CHANNEL]
    if not numbers:
        raise InvalidInput("this contact has no phone number")
    if await router.on_a_call(agent):
        raise IllegalTransition("you are on a call already")
    now = core.clock.now()
    conversation = await core.conversations.create(Conversation(
        id=ConversationId(new_id("c")), contact_id=ContactId(contact["_id"]), channel=VOICE,
        state=ConversationState.NEW, version=0, queue=None, priority=0, skills=frozenset(), agent_id=None,
        created_at=now, updated_at=now), contact_name=contact["display_name"], actor=agent.id)
    call = CallRecord(call_id=new_id("out"), conversation_id=conversation.id, caller=numbers[0], caller_channel=None,
                      started_at=now, callback=True, outbound=True,
                      steps=(CallStep(at=now, step=Step.OUTBOUND, detail={"agent_id": agent.id}),))
    await calls.open(call)
    assigned = await transitions.transition(conversation, ConversationState.ASSIGNED, EventType.CALLED_OUT,
                                            actor=agent.id, changes={"agent_id": agent.id},
                                            detail={"call_id": call.call_id})
    await router.hold_outbound(assigned)
    return call
