"""The bot's side of a conversation: ask Rasa, then answer or hand over to a human with context.

Implements ``hub.ports.Assistant``. Decisions are ``bot.handover.decide`` (pure); this module only
gathers its inputs and carries out its answer through ``hub.ports.BotConversations``.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from bot.handover import Decision, HandoverPolicy, Reading, decide, route_for
from hub.domain.bot import BotTurn, HandoverContext, HandoverReason
from hub.domain.events import EventType
from hub.domain.ids import Author
from hub.domain.model import Conversation, Message
from hub.domain.states import ConversationState
from hub.errors import BotUnavailable, ConcurrentUpdate, IllegalTransition
from hub.ports import Bot, BotConversations

logger = logging.getLogger(__name__)

TRANSCRIPT_TURNS = 20
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN = re.compile(r"[A-Za-z]")


def reply_language(text: str) -> str | None:
    """The language to answer a message in: ``zh`` when it has Chinese characters, ``en`` when it has
    Latin letters and none; None (keep the last one) for digits, emoji or punctuation alone."""
    if CJK.search(text):
        return "zh"
    return "en" if LATIN.search(text) else None


def customer_language(messages: Sequence[Message]) -> str | None:
    """The language the customer writes in: that of their latest message that shows one."""
    for message in reversed(messages):
        if message.author is Author.CUSTOMER and (language := reply_language(message.text)):
            return language
    return None


class TurnLog(Protocol):
    """Where every turn the bot read is recorded for the trainers (``bot.training.turns``); best effort."""

    async def record(self, *, conversation_id: str, text: str, intent: str | None, confidence: float,
                     handed_over: bool, reason: str | None) -> None: ...


class IntentAnswers(Protocol):
    """Answers the hub keeps for some intents (a knowledge article linked to an FAQ intent, the
    outage table for the outage question): None when it has none for this turn."""

    async def answer(self, *, intent: str, conversation: Conversation, text: str, language: str) -> str | None: ...


class BotService:
    def __init__(self, *, bot: Bot, conversations: BotConversations, policy: HandoverPolicy,
                 intent_queues: Mapping[str, str], default_queue: str, turns: TurnLog | None = None,
                 handover_intents: Callable[[], Awaitable[frozenset[str]]] | None = None,
                 threshold: Callable[[], Awaitable[float | None]] | None = None,
                 answers: Sequence[IntentAnswers] = ()) -> None:
        """``handover_intents``: the active model's intents that have no answer (humans take them).
        ``threshold``: the active model's out-of-scope threshold (None: Rasa's fallback and the configured
        confidence threshold decide). ``answers``: asked in order before Rasa's own reply; the first
        answer is sent instead."""
        self._bot = bot
        self._conversations = conversations
        self._policy = policy
        self._intent_queues = dict(intent_queues)
        self._default_queue = default_queue
        self._turns = turns
        self._handover_intents = handover_intents
        self._threshold = threshold
        self._answers = tuple(answers)

    async def handle(self, conversation_id: str, message: Message, payload: str | None) -> None:
        memory = await self._conversations.bot_memory(conversation_id)
        if memory.get("state") != ConversationState.BOT:
            return  # the caller's view was stale: a human holds the conversation now
        policy = await self._policy_now()
        try:
            turn: BotTurn | None = as_decided(await self._bot.turn(
                conversation_id, payload or message.text, reply_language(message.text),
                threshold=policy.out_of_scope_threshold), policy)
        except BotUnavailable:
            turn = None
        if turn is not None and await self._answered(conversation_id, message, turn, policy):
            return
        reading = Reading(intent=turn.intent, confidence=turn.confidence) if turn else None
        decision = decide(reading, previous_fallbacks=int(memory.get("fallbacks", 0)), policy=policy)
        if turn is not None:
            await self._conversations.remember_bot_turn(conversation_id, turn.intent, turn.confidence,
                                                        decision.fallbacks)
            if self._turns is not None:
                await self._turns.record(
                    conversation_id=conversation_id, text=message.text, intent=turn.intent,
                    confidence=turn.confidence, handed_over=decision.handover is not None,
                    reason=decision.handover.value if decision.handover else None)
        if decision.handover is None and turn is not None:
            for reply in turn.replies:
                buttons = [{"title": b.title, "payload": b.payload} for b in reply.buttons]
                if await self._conversations.bot_reply(conversation_id, reply.text, buttons) is None:
                    return  # a human took over while the bot was thinking
            return
        await self._hand_over(conversation_id, turn, decision, memory)

    async def _answered(self, conversation_id: str, message: Message, turn: BotTurn, policy: HandoverPolicy) -> bool:
        """Answer from the hub's own answers when one has this confident intent (a linked article
        answers even an intent the model has no response for); False: Rasa's turn goes on."""
        intent = turn.intent
        if (not self._answers or not intent or not policy.keeps(turn.confidence) or intent in policy.fallback_intents
                or intent in self._policy.human_intents or intent in self._policy.human_only_intents):
            return False  # configured for humans (an article linked to it is the agent's suggestion)
        conversation = await self._conversations.conversation(conversation_id)
        language = reply_language(message.text) or conversation.language
        for source in self._answers:
            text = await source.answer(intent=intent, conversation=conversation, text=message.text,
                                       language=language)
            if text:
                break
        else:
            return False
        await self._conversations.remember_bot_turn(conversation_id, intent, turn.confidence, 0)
        if self._turns is not None:
            await self._turns.record(conversation_id=conversation_id, text=message.text, intent=intent,
                                     confidence=turn.confidence, handed_over=False, reason=None)
        await self._conversations.bot_reply(conversation_id, text, [])
        return True

    async def _policy_now(self) -> HandoverPolicy:
        """The configured policy with the active model's intents without an answer and its threshold."""
        policy = self._policy
        if self._threshold is not None and (threshold := await self._threshold()) is not None:
            policy = dataclasses.replace(policy, out_of_scope_threshold=threshold)
        extra = await self._handover_intents() if self._handover_intents is not None else frozenset()
        if extra:
            policy = dataclasses.replace(policy, human_only_intents=policy.human_only_intents | extra)
        return policy

    async def hand_over(self, conversation_id: str, reason: HandoverReason) -> None:
        """Hand over without a turn of Rasa's (the voice bot heard silence or words it does not
        know, again): into the queue of the intents so far, with the same card as any handover."""
        memory = await self._conversations.bot_memory(conversation_id)
        if memory.get("state") != ConversationState.BOT:
            return
        decision = Decision(handover=reason, fallbacks=int(memory.get("fallbacks", 0)))
        await self._hand_over(conversation_id, None, decision, memory)

    async def _hand_over(self, conversation_id: str, turn: BotTurn | None, decision: Decision,
                         memory: Mapping[str, Any]) -> None:
        assert decision.handover is not None
        conversation = await self._conversations.conversation(conversation_id)
        if conversation.state is not ConversationState.BOT:
            return  # taken over while Rasa was thinking: never pull it back from a human
        intent = turn.intent if turn else None
        earlier = [i.get("intent") for i in memory.get("intents", ())]
        queue = route_for([*earlier, intent], self._intent_queues, self._default_queue)
        context = await self._context(conversation, decision.handover, turn, memory, queue)
        try:
            await self._conversations.queue_for_humans(
                conversation, queue, event_type=EventType.HANDED_OVER, handover=context.to_doc(),
                detail={"reason": decision.handover.value, "intent": intent or ""})
        except (IllegalTransition, ConcurrentUpdate):
            return  # already handed over (a concurrent turn) or resolved
        logger.info("bot.handover id=%s reason=%s queue=%s", conversation_id, decision.handover, queue)

    async def _context(self, conversation: Conversation, reason: HandoverReason, turn: BotTurn | None,
                       memory: Mapping[str, Any], queue: str) -> HandoverContext:
        messages = (await self._conversations.transcript(conversation.id))[-TRANSCRIPT_TURNS:]
        intents = tuple((str(i.get("intent")), float(i.get("confidence", 0.0)))
                        for i in memory.get("intents", ()) if i.get("intent"))
        if turn is not None and turn.intent:
            intents = (*intents, (turn.intent, turn.confidence))[-5:]
        last_customer = next((m.text for m in reversed(messages) if m.author is Author.CUSTOMER), "")
        return HandoverContext(
            reason=reason, intent=turn.intent if turn else None, confidence=turn.confidence if turn else 0.0,
            intents=intents, entities=dict(turn.entities) if turn else {},
            summary=summarise(reason, turn, last_customer),
            transcript=tuple((m.author.value, m.text) for m in messages),
            language=customer_language(messages) or conversation.language, channel=conversation.channel,
            queue=queue, priority=conversation.priority,
        )


def as_decided(turn: BotTurn, policy: HandoverPolicy) -> BotTurn:
    """With the active model's threshold, the best real intent is the turn's intent (Rasa's hand-set
    fallback classifier does not decide); without it, Rasa's served intent."""
    if policy.out_of_scope_threshold is None or turn.best_intent is None or turn.best_intent == turn.intent:
        return turn
    return dataclasses.replace(turn, intent=turn.best_intent, confidence=turn.best_confidence)


def summarise(reason: HandoverReason, turn: BotTurn | None, last_customer: str) -> str:
    why = {
        HandoverReason.ASKED: "Customer asked for an agent",
        HandoverReason.LOW_CONFIDENCE: "The bot was unsure what the customer wants",
        HandoverReason.REPEATED_FALLBACK: "The bot did not understand the customer several times",
        HandoverReason.BOT_UNAVAILABLE: "The bot was unavailable",
        HandoverReason.POLICY: "This topic is handled by agents",
        HandoverReason.OUT_OF_SCOPE: "The question is outside what the bot was taught",
    }[reason]
    topic = f" (intent {turn.intent}, {turn.confidence:.0%})" if turn and turn.intent else ""
    quote = f': "{last_customer[:160]}"' if last_customer else ""
    return f"{why}{topic}{quote}"
