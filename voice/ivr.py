"""The inbound call's menu, as a FastAGI script: greeting, menu digit, then queued (or a call back).

The caller waits with music on hold in the dialplan (``HUB_NEXT=wait`` sends the channel to
``hub-wait``) until our ACD rings an agent. Queueing happens before the AGI ends, so the call is
in line the moment the caller hears the music.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hub.call_ports import CallLine
from voice.agi import AgiSession
from voice.menu import AskAgain, Chosen, Menu, decide

logger = logging.getLogger(__name__)

CallQueued = Callable[[str, str], None]  # (conversation id, call id): the line learns the call at once


class BotEntry(Protocol):
    """The voice bot (``voice.bot_calls.BotCalls``): it answers every call, or a menu digit's."""

    @property
    def answers_every_call(self) -> bool: ...

    @property
    def menu_digit(self) -> str | None: ...

    async def take(self, session: AgiSession, *, call_id: str, caller: str, channel: str) -> None: ...


ANONYMOUS = frozenset({"", "unknown", "anonymous", "restricted", "private"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Prompts:
    greeting: str
    menu: str
    invalid: str
    wait: str
    callback: str
    moh_class: str = "default"


class InboundMenu:
    """``await menu(session)`` serves one inbound call (the AGI script ``inbound``)."""

    def __init__(self, *, line: CallLine, menu: Menu, prompts: Prompts, digit_timeout_s: float,
                 on_queued: CallQueued, bot: BotEntry | None = None) -> None:
        self._bot = bot
        self._line = line
        self._menu = menu
        self._prompts = prompts
        self._digit_timeout_ms = int(digit_timeout_s * 1000)
        self._on_queued = on_queued

    async def __call__(self, session: AgiSession) -> None:
        call_id = session.head.get("uniqueid", "").strip()
        channel = session.head.get("channel", "").strip()
        if not call_id or not channel:
            logger.warning("voice.ivr.refused reason=no_channel")
            return
        caller = caller_number(session.head.get("callerid", ""), call_id)
        started = asyncio.get_running_loop().time()
        if self._bot is not None and self._bot.answers_every_call:
            await self._bot.take(session, call_id=call_id, caller=caller, channel=channel)
            return
        await session.command(f'STREAM FILE {self._prompts.greeting} ""', timeout_s=30)
        chosen = await self._choose(session)
        if chosen is None:
            assert self._bot is not None
            await self._bot.take(session, call_id=call_id, caller=caller, channel=channel)
            return
        if chosen.callback:
            conversation = await self._line.arrived(call_id=call_id, caller=caller, caller_channel=channel,
                                                    choice=chosen.choice, queue_id=chosen.queue, callback=True,
                                                    menu_s=asyncio.get_running_loop().time() - started)
            self._on_queued(conversation.id, call_id)
            await session.command(f'STREAM FILE {self._prompts.callback} ""', timeout_s=30)
            logger.info("voice.ivr.callback call=%s queue=%s", call_id, chosen.queue)
            return  # the dialplan hangs up: the hub calls back when an agent is free
        await session.command(f'STREAM FILE {self._prompts.wait} ""', timeout_s=30)
        # Music while the call is stored and queued (a loaded hub takes seconds: never dead air);
        # it goes on in the dialplan's hub-wait after the script ends.
        await session.command(f"SET MUSIC ON {self._prompts.moh_class}")
        conversation = await self._line.arrived(call_id=call_id, caller=caller, caller_channel=channel,
                                                choice=chosen.choice, queue_id=chosen.queue,
                                                menu_s=asyncio.get_running_loop().time() - started)
        self._on_queued(conversation.id, call_id)
        await session.command("SET VARIABLE HUB_NEXT wait")
        logger.info("voice.ivr.queued call=%s conv=%s queue=%s", call_id, conversation.id, chosen.queue)

    async def _choose(self, session: AgiSession) -> Chosen | None:
        """The caller's choice; None: the voice bot's digit."""
        attempt = 1
        bot_digit = self._bot.menu_digit if self._bot is not None else None
        while True:
            reply = await session.command(f"GET DATA {self._prompts.menu} {self._digit_timeout_ms} 1", timeout_s=60)
            pressed = reply.result if reply.data != "timeout" or reply.result else ""
            if bot_digit and pressed[:1] == bot_digit:
                return None
            outcome = decide(self._menu, pressed, attempt)
            if not isinstance(outcome, AskAgain):
                return outcome
            if outcome.invalid:
                await session.command(f'STREAM FILE {self._prompts.invalid} ""', timeout_s=30)
            attempt += 1


def caller_number(callerid: str, call_id: str) -> str:
    """The caller's number as the PBX gave it; a withheld number gets an address of its own per call
    (anonymous callers are not one contact)."""
    number = callerid.strip()
    if number.lower() in ANONYMOUS:
        return f"anonymous-{call_id}"
    return number[:64]
