"""What the end of a call does to its conversation: abandoned while waiting (with the wait and
whether it was a short abandon), after-call work while talking. Idempotent across processes."""

from __future__ import annotations

import logging
from datetime import datetime

from hub.call_ports import CallRouting
from hub.conversations.transitions import Transitions
from hub.domain.calls import AfterHangup, CallRecord, Party, after_hangup, is_short_abandon
from hub.domain.events import EventType
from hub.domain.model import Conversation
from hub.domain.states import ConversationState
from hub.errors import ConcurrentUpdate, IllegalTransition

logger = logging.getLogger(__name__)
S = ConversationState


async def settle_ended_call(transitions: Transitions, router: CallRouting, conversation: Conversation,
                            call: CallRecord, by: Party, now: datetime, *, lost: bool, short_abandon_s: float) -> None:
    """``lost``: the hub found the call gone when it reconnected (the times are then upper bounds)."""
    lost_flag = "yes" if lost else "no"
    try:
        outcome = after_hangup(conversation.state)
        if outcome is AfterHangup.ABANDONED:
            wait_s = (now - (conversation.queued_at or call.started_at)).total_seconds()
            short = is_short_abandon(wait_s, short_abandon_s)
            await transitions.transition(conversation, S.ABANDONED, EventType.ABANDONED, actor="customer",
                                         detail={"call_id": call.call_id, "wait_s": f"{wait_s:.3f}",
                                                 "short": "yes" if short else "no", "lost": lost_flag})
            await router.abandon(conversation)
        elif outcome is AfterHangup.WRAP_UP:
            talk = call.talk_s(now)
            await transitions.transition(conversation, S.WRAP_UP, EventType.CALL_ENDED, actor=by.value,
                                         detail={"call_id": call.call_id, "ended_by": by.value,
                                                 "talk_s": f"{talk or 0.0:.3f}", "hold_s": f"{call.hold_s:.3f}",
                                                 "lost": lost_flag})
        elif outcome is AfterHangup.BOT_DONE:
            await transitions.transition(conversation, S.RESOLVED, EventType.RESOLVED, actor="system",
                                         detail={"call_id": call.call_id, "by": "voice_bot", "lost": lost_flag})
    except (IllegalTransition, ConcurrentUpdate) as err:  # moved on meanwhile (another process saw it)
        logger.info("call.hangup.settled_elsewhere conv=%s reason=%s", conversation.id, err.code)
