"""Conversations the bot contained, ended (ADR 0079): a conversation the bot holds in which nobody
wrote for ``HUB_BOT__IDLE_RESOLVE_S`` is resolved by the bot (``resolved``, ``bot`` → ``resolved``,
actor ``bot``, detail ``reason=idle``), so it leaves the open views and counts as contained
(``resolved_by_bot``, docs/kpis.md). Before, it stayed open until a supervisor resolved it.

Durable by stored state, like the snooze sweep: the candidates are read from MongoDB every
``poll_s`` by one process at a time (a lease), so a hub that was down resolves on its first round
what fell idle meanwhile. A call is never resolved here: the voice bot's conversation ends with
the call. A customer who writes after the resolve starts a new conversation, as after any resolve.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from hub.conversations.core import ConversationCore
from hub.conversations.transitions import Transitions
from hub.domain.events import EventType
from hub.domain.states import ConversationState
from hub.errors import ConcurrentUpdate, IllegalTransition, NotFound
from hub.supervisor import Health

logger = logging.getLogger(__name__)

S = ConversationState
ROUND_LIMIT = 500  # candidates read per round; a backlog takes a few rounds
NOT_HERE = frozenset({"voice"})  # channels whose bot conversation ends with something else (the call)


def last_activity(doc: Mapping[str, Any]) -> datetime:
    """When anything last happened in a conversation the bot holds: its last message (either side)
    or its last change (entering the bot), whichever is later."""
    times = [doc.get(name) for name in ("last_message_at", "updated_at", "created_at")]
    return max(t for t in times if isinstance(t, datetime))


def is_idle(doc: Mapping[str, Any], now: datetime, idle: timedelta) -> bool:
    """Pure: the bot's conversation ``doc`` is over (contained) once nobody wrote for ``idle``."""
    return doc.get("channel") not in NOT_HERE and now - last_activity(doc) >= idle


class BotIdleSweep:
    """The supervised loop (``hub.supervisor``) under the ``bot:idle`` lease."""

    def __init__(self, core: ConversationCore, transitions: Transitions, *, idle_s: float, poll_s: float) -> None:
        self._core = core
        self._transitions = transitions
        self._idle = timedelta(seconds=idle_s)
        self._poll_s = poll_s

    async def run(self, health: Health) -> None:
        while True:
            await self.sweep()
            health.up()
            await asyncio.sleep(self._poll_s)

    async def sweep(self) -> int:
        """One round: resolve every idle conversation the bot holds; returns how many."""
        now = self._core.clock.now()
        resolved = 0
        for doc in await self._core.conversations.with_bot_since(now - self._idle, ROUND_LIMIT):
            if is_idle(doc, now, self._idle) and await self._resolve(str(doc["_id"])):
                resolved += 1
        return resolved

    async def _resolve(self, conversation_id: str) -> bool:
        try:
            conversation = await self._core.conversations.get(conversation_id)
            if conversation.state is not S.BOT:
                return False
            await self._transitions.transition(conversation, S.RESOLVED, EventType.RESOLVED, actor="bot",
                                               detail={"reason": "idle"})
        except (ConcurrentUpdate, NotFound, IllegalTransition):
            return False  # the customer wrote, or the bot handed over, meanwhile: the next round reads it afresh
        logger.info("bot.idle.resolved id=%s", conversation_id)
        return True
