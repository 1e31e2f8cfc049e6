"""Satisfaction surveys (issue 14, item 6): offer after resolve, ask on the customer's channel,
read the answer, and record it on the seam.

The decisions are ``hub.domain.surveys`` (pure); this is the I/O around them. The answer becomes
the conversation's ``survey_answered`` transition (``resolved -> closed``, detail ``score``): a
stored, numbered event like every other, so the KPI projection counts it from the event table
(durably) and every process hears of it as a ``ConversationChanged``. A call's answer is read
while the conversation is still in wrap-up: it waits in ``surveys`` and is closed in at the
resolve (``settle``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from hub.clock import Clock
from hub.conversations.core import ConversationCore
from hub.conversations.outgoing import Outgoing
from hub.conversations.transitions import Transitions
from hub.domain import survey_links
from hub.domain.contacts import inbound_key
from hub.domain.events import EventType, MessageStored, SurveyAsked
from hub.domain.ids import Author, DeliveryStatus, MessageId, new_id
from hub.domain.model import Conversation, Message
from hub.domain.states import ConversationState
from hub.domain.surveys import Survey, SurveyState, question, score_buttons
from hub.errors import ConcurrentUpdate, IllegalTransition, NotFound
from hub.storage.surveys import MongoSurveyStore
from hub.surveys.open_keys import OpenSurveyKeys
from hub.wire import message_json

logger = logging.getLogger(__name__)

SURVEY_AUTHOR = "Northgrid satisfaction survey"


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyConfig:
    """What the service needs of ``hub.config.SurveySettings``."""

    expiry: timedelta
    link_expiry: timedelta
    questions: dict[str, str]  # per language, overrides the built-in text
    has_buttons: Callable[[str], bool]  # the channel shows buttons (``Capabilities.buttons`` native)
    links: frozenset[str]  # channels asked with a signed link (e-mail)


class SurveyService:
    def __init__(self, *, store: MongoSurveyStore, core: ConversationCore, outgoing: Outgoing,
                 transitions: Transitions, config: SurveyConfig, link_key: bytes, base_url: str | None,
                 keys: OpenSurveyKeys | None = None) -> None:
        self._store = store
        self._keys = keys
        self._core = core
        self._outgoing = outgoing
        self._transitions = transitions
        self._config = config
        self._link_key = link_key
        self._base_url = base_url

    @property
    def store(self) -> MongoSurveyStore:
        return self._store

    @property
    def keys(self) -> OpenSurveyKeys | None:
        """The addresses that may be answering a survey (None: look every message up)."""
        return self._keys

    @property
    def clock(self) -> Clock:
        return self._core.clock

    async def conversation(self, conversation_id: str) -> Conversation:
        return await self._core.conversations.get(conversation_id)

    def attach_base_url(self, url: str) -> None:
        """Wiring: the hub's URL as customers reach it, known once it listens (``HUB_HTTP__PUBLIC_URL`` wins)."""
        self._base_url = self._base_url or url

    async def offer(self, conversation: Conversation, *, agent_id: str | None, queue: str | None) -> None:
        """Offer and ask the survey of a resolved conversation; once per conversation, however often called."""
        now = self._core.clock.now()
        route = await self._outgoing.route(conversation)
        channel, address = route.channel, route.address
        key = inbound_key(channel, address) if address else f"contact:{conversation.contact_id}"
        survey = Survey(conversation_id=conversation.id, contact_id=conversation.contact_id, channel=channel,
                        key=key, agent_id=agent_id, queue=queue, language=conversation.language,
                        state=SurveyState.OPEN, offered_at=now, expires_at=now + self._config.expiry)
        if not await self._store.offer(survey) and (await self._store.flags(conversation.id))["asked"]:
            return
        if self._keys is not None:  # known here and to every process before the question can be answered
            digest = self._keys.asked(key, survey.expires_at)
            await self._core.tell(SurveyAsked(conversation_id=conversation.id, key_digest=digest,
                                              expires_at=survey.expires_at))
        # Marked asked before the question goes out: an answer looks for asked surveys only, and a
        # widget's customer can press a star before a mark stored after the send (CI saw the answer
        # open a new conversation). If the question cannot be sent, the mark is taken back so that
        # the offer's retry asks again.
        await self._store.mark_asked(conversation.id, self._core.clock.now())
        try:
            await self.ask(survey, conversation)
        except BaseException:
            await self._store.unmark_asked(conversation.id)
            raise
        logger.info("surveys.asked conv=%s channel=%s", conversation.id, channel)

    async def open_call(self, conversation_id: str, *, agent_id: str | None) -> Survey | None:
        """Open the keypad survey of a call whose agent just hung up (the caller is still on the line):
        the survey, stored as asked; None when the conversation has one already (once per conversation)."""
        try:
            conversation = await self._core.conversations.get(conversation_id)
        except NotFound:
            return None
        now = self._core.clock.now()
        survey = Survey(conversation_id=conversation.id, contact_id=conversation.contact_id, channel="voice",
                        key=f"call:{conversation.id}", agent_id=agent_id or conversation.agent_id,
                        queue=conversation.queue, language=conversation.language, state=SurveyState.OPEN,
                        offered_at=now, expires_at=now + self._config.expiry)
        if not await self._store.offer(survey):
            return None
        await self._store.mark_asked(conversation.id, now)
        logger.info("surveys.asked conv=%s channel=voice", conversation.id)
        return survey

    async def ask(self, survey: Survey, conversation: Conversation) -> None:
        """Send the question (again, for the one re-ask) in the resolved conversation."""
        route = await self._outgoing.route(conversation)
        channel, address = route.channel, route.address
        buttons: tuple[dict[str, str], ...] = ()
        if channel in self._config.links:
            form = "link"
        elif self._config.has_buttons(channel):
            form, buttons = "buttons", tuple(dict(b) for b in score_buttons())
        else:
            form = "reply"
        text = question(survey.language, form=form, link=self.link(survey.conversation_id),
                        texts=self._config.questions)
        message = await self._outgoing.store(Message(
            id=MessageId(new_id("m")), conversation_id=conversation.id, channel=channel, author=Author.SYSTEM,
            author_id="survey", author_name=SURVEY_AUTHOR, text=text, sent_at=self._core.clock.now(),
            status=DeliveryStatus.SENT, buttons=buttons, address=address), thread=route.thread)
        await self._core.tell(MessageStored(conversation_id=conversation.id, holder=None,
                                            message=message_json(message, live=self._core.live)))

    def link(self, conversation_id: str) -> str:
        expires_at = self._core.clock.now() + self._config.link_expiry
        token = survey_links.sign(self._link_key, conversation_id, expires_at)
        return f"{(self._base_url or '').rstrip('/')}/survey/{token}"

    def verify(self, token: str) -> survey_links.LinkClaim:
        return survey_links.verify(self._link_key, token, now=self._core.clock.now())

    async def answered(self, survey: Survey, score: int, ref: str | None,
                       from_states: tuple[SurveyState, ...] = (SurveyState.OPEN,)) -> bool:
        """Store the score (once) and close the conversation with it when it is resolved."""
        if not await self._store.answer(survey.conversation_id, score, self._core.clock.now(), ref,
                                        from_states=from_states):
            return False
        logger.info("surveys.answered conv=%s channel=%s", survey.conversation_id, survey.channel)
        await self.settle(survey.conversation_id)
        return True

    async def reasked(self, survey: Survey, ref: str) -> bool:
        if not await self._store.reask(survey.conversation_id, ref, self._core.clock.now()):
            return False
        await self.ask(replace(survey, reasks=survey.reasks + 1),
                       await self._core.conversations.get(survey.conversation_id))
        logger.info("surveys.reasked conv=%s", survey.conversation_id)
        return True

    async def stopped(self, survey: Survey) -> None:
        if await self._store.stop(survey.conversation_id, self._core.clock.now()):
            logger.info("surveys.stopped conv=%s", survey.conversation_id)

    async def settle(self, conversation_id: str) -> None:
        """An answered survey of a resolved conversation becomes its ``survey_answered`` event.
        Idempotent: a conversation already closed (or not yet resolved) is left as it is."""
        survey = await self._store.get(conversation_id)
        if survey is None or survey.state is not SurveyState.ANSWERED or survey.score is None:
            return
        try:
            conversation = await self._core.conversations.get(conversation_id)
        except NotFound:
            return
        if conversation.state is ConversationState.RESOLVED:
            try:
                await self._transitions.transition(
                    conversation, ConversationState.CLOSED, EventType.SURVEY_ANSWERED, actor="customer",
                    detail={"score": str(survey.score), "survey_channel": survey.channel})
            except (ConcurrentUpdate, IllegalTransition):
                return  # closed meanwhile by another process: its event carries the score
        if conversation.state in (ConversationState.RESOLVED, ConversationState.CLOSED):
            await self._store.mark_closed(conversation_id)
