"""The customer inbox with the surveys in front: a customer's message while a survey is open on
its channel is read as the answer (``hub.domain.surveys.decide``).

A score is stored and goes no further: it starts no conversation and reaches neither the bot nor
an agent. A miss is re-asked once. Anything else (a second miss, a real message, a file) ends the
survey and goes on to the inbox as any message does. A provider's redelivery of a message the
survey took is recognised by its external id and acknowledged as a repeat.
"""

from __future__ import annotations

from hub.conversations.in_front import InboxInFront
from hub.domain.contacts import inbound_key
from hub.domain.ids import Author, ConversationId, DeliveryStatus, MessageId, new_id
from hub.domain.model import InboundMessage, Message
from hub.domain.received import ConversationRef, Received
from hub.domain.states import OPEN_STATES, ConversationState
from hub.domain.surveys import Step, Survey, SurveyState, decide
from hub.domain.text import require_valid_text
from hub.ports import SessionInbox
from hub.surveys.service import SurveyService


class SurveyInbox(InboxInFront):
    """``hub.ports.SessionInbox`` over the customer inbox (``hub.conversations.customers``)."""

    def __init__(self, inbox: SessionInbox, service: SurveyService) -> None:
        super().__init__(inbox)
        self._service = service

    async def accept_inbound(self, inbound: InboundMessage) -> Received:
        """Store-and-forward channels (SMS, e-mail, Telegram): the survey open for the sender's address."""
        key, now = inbound_key(inbound.channel, inbound.sender), self._service.clock.now()
        keys = self._service.keys
        if keys is not None and not await keys.may_answer(key, now):  # no survey for this address: no read
            return await self._inbox.accept_inbound(inbound)
        found = await self._service.store.find_by_key(key, _ref(inbound), now)
        taken = await self._take(inbound, *found)
        return taken if taken is not None else await self._inbox.accept_inbound(inbound)

    async def receive(self, inbound: InboundMessage, *, contact_id: str, contact_name: str,
                      known: ConversationRef | None) -> Received:
        """Live channels (the widget): a message that would start a new conversation may answer the
        survey of the one just resolved."""
        if known is None or known.state not in OPEN_STATES:
            found = await self._service.store.find_by_contact(contact_id, inbound.channel, _ref(inbound),
                                                              self._service.clock.now())
            taken = await self._take(inbound, *found)
            if taken is not None:
                return taken
        return await self._inbox.receive(inbound, contact_id=contact_id, contact_name=contact_name, known=known)

    async def _take(self, inbound: InboundMessage, survey: Survey | None, repeat: bool) -> Received | None:
        if survey is None:
            return None
        if repeat:
            return _received(inbound, survey, duplicate=True)
        ref = _ref(inbound)
        require_valid_text("message", {"text": inbound.text, "payload": inbound.payload})
        decision = decide(survey, inbound.text, inbound.payload, has_files=bool(inbound.attachments))
        if decision.step is Step.ANSWER and decision.score is not None:
            if await self._service.answered(survey, decision.score, ref):
                return _received(inbound, survey, duplicate=False)
            return None
        if decision.step is Step.REASK and await self._service.reasked(survey, ref):
            return _received(inbound, survey, duplicate=False)
        await self._service.stopped(survey)
        return None



def _ref(inbound: InboundMessage) -> str:
    return f"{inbound.channel}:{inbound.external_id}"


def _received(inbound: InboundMessage, survey: Survey, *, duplicate: bool) -> Received:
    """What the channel learns: the answer, as a message of the surveyed conversation (not stored as
    one: the survey keeps it); the conversation stays finished, so nothing follows it."""
    message = Message(id=MessageId(new_id("m")), conversation_id=ConversationId(survey.conversation_id),
                      channel=inbound.channel, author=Author.CUSTOMER, author_id=survey.contact_id,
                      author_name="", text=inbound.text, sent_at=inbound.received_at, status=DeliveryStatus.SENT,
                      external_id=inbound.external_id)
    state = ConversationState.RESOLVED if survey.state is SurveyState.OPEN else ConversationState.CLOSED
    return Received(message, ConversationRef(ConversationId(survey.conversation_id), state, None), duplicate)
