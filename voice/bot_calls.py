"""The voice bot on the line: takes a call from the menu (or at its start), serves the dialogue over
AudioSocket, and gives the call back to the dialplan when it is handed over.

``take`` runs inside the inbound AGI script: it opens the call's conversation (held by the bot),
expects the call's AudioSocket connection under a fresh UUID and tells the dialplan to connect
(``HUB_NEXT=bot``: the ``hub-bot`` context records the call and runs ``AudioSocket()``). The
dialogue runs as a task of its own; when it hands over, the line learns the call at once (so the
ACD's offer rings the agent) and the hub closes the socket: the dialplan's ``bot_done`` AGI script
then puts the caller on music on hold (``HUB_NEXT=wait``), as the menu's agent choice does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.call_ports import CallLine, VoiceBotPorts
from hub.clock import Clock
from hub.domain.calls import VOICE
from hub.domain.contacts import default_contact_name
from hub.domain.events import Fact
from hub.ports import MessageLog, SessionInbox
from voice.agi import AgiSession
from voice.bot_turns import HubBotTurns
from voice.media_audiosocket import AudioSocketServer, MediaCall
from voice.stt_stream import Recogniser
from voice.tts import PromptCache
from voice.voice_bot import Dialogue, Outcome, VoiceBotConfig

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 15.0  # the dialplan's AudioSocket() connects within this after the AGI ends
EXAMPLES_TTL_S = 60.0  # the curated examples (the grammar) are read again after this long


@dataclass(frozen=True, slots=True, kw_only=True)
class BotLineConfig:
    dialogue: VoiceBotConfig
    models: Mapping[str, Path]
    media_host: str
    media_port: int
    prompts_dir: Path
    entry: str = "menu"  # "menu": the caller presses ``menu_digit``; "call": the bot answers every call
    menu_digit: str | None = None
    moh_class: str = "default"


class BotCalls:
    def __init__(self, config: BotLineConfig, *, calls: CallLine, sessions: SessionInbox, history: MessageLog,
                 ports: VoiceBotPorts, clock: Clock) -> None:
        self._config = config
        self._calls = calls
        self._sessions = sessions
        self._history = history
        self._ports = ports
        self._clock = clock
        self._media = AudioSocketServer()
        self._recogniser = Recogniser(config.models)
        self._prompts = PromptCache(config.prompts_dir)
        self._handed_over: set[str] = set()  # call ids whose caller waits for an agent now
        self._tasks: set[asyncio.Task[None]] = set()
        self.media_port: int | None = None
        self._examples: tuple[float, Sequence[str]] | None = None
        self.publish: Callable[[Fact], Coroutine[Any, Any, None]] | None = None
        self.on_queued: Callable[[str, str], None] = lambda conversation_id, call_id: None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[BotCalls]:
        """The media server and the recognition worker, for as long as the line runs."""
        async with self._recogniser:
            self.media_port = await self._media.start(self._config.media_host, self._config.media_port)
            logger.info("voice.bot.up media_port=%d", self.media_port)
            self._spawn(self._warm_up(), "voice:bot:warm_up")
            try:
                yield self
            finally:
                await self._media.close()
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def answers_every_call(self) -> bool:
        return self._config.entry == "call"

    @property
    def menu_digit(self) -> str | None:
        return self._config.menu_digit if self._config.entry == "menu" else None

    async def take(self, session: AgiSession, *, call_id: str, caller: str, channel: str) -> None:
        """The bot answers the call (inside the inbound AGI script)."""
        language = self._config.dialogue.language
        recording = f"{call_id}-bot"
        conversation = await self._calls.bot_arrived(call_id=call_id, caller=caller, caller_channel=channel,
                                                     language=language, recording=recording)
        contact = await self._sessions.contact_for(VOICE, caller, default_contact_name(VOICE, caller))
        key, connected = self._media.expect()
        turns = HubBotTurns(sessions=self._sessions, history=self._history, calls=self._calls, ports=self._ports,
                            examples=self.examples, clock=self._clock, call_id=call_id, caller=caller,
                            conversation=conversation, contact=contact)
        self._spawn(self._serve(call_id, conversation.id, connected, turns), f"voice:bot:{call_id}")
        await session.command(f"SET VARIABLE HUB_BOT {key}")
        await session.command(f"SET VARIABLE HUB_MEDIA {self._config.media_host}:{self.media_port}")
        await session.command(f"SET VARIABLE HUB_REC {recording}")
        await session.command("SET VARIABLE HUB_NEXT bot")
        logger.info("voice.bot.took call=%s conv=%s", call_id, conversation.id)

    async def done(self, session: AgiSession) -> None:
        """The AGI script ``bot_done``: the socket closed; a handed-over caller waits with music."""
        call_id = session.head.get("uniqueid", "").strip()
        if call_id in self._handed_over:
            self._handed_over.discard(call_id)
            await session.command(f"SET MUSIC ON {self._config.moh_class}")
            await session.command("SET VARIABLE HUB_NEXT wait")

    async def _serve(self, call_id: str, conversation_id: str, connected: asyncio.Future[MediaCall],
                     turns: HubBotTurns) -> None:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                media = await connected
        except (TimeoutError, asyncio.CancelledError):
            logger.warning("voice.bot.no_media call=%s", call_id)
            return
        dialogue = Dialogue(media=media, recogniser=self._recogniser, prompts=self._prompts, turns=turns,
                            config=self._config.dialogue, call_id=call_id, conversation_id=conversation_id,
                            tell=self._tell, on_handover=lambda: self._handing_over(conversation_id, call_id))
        try:
            outcome = await dialogue.run()
        except Exception:
            logger.exception("voice.bot.dialogue_crashed call=%s", call_id)
            outcome = Outcome.GONE
        finally:
            await media.close()
        logger.info("voice.bot.ended call=%s outcome=%s turns=%d barge_ins=%d", call_id, outcome, dialogue.turns,
                    dialogue.barge_ins)

    def _handing_over(self, conversation_id: str, call_id: str) -> None:
        self._handed_over.add(call_id)
        self.on_queued(conversation_id, call_id)

    async def examples(self) -> Sequence[str]:
        """The curated examples' texts, read at most every ``EXAMPLES_TTL_S``."""
        now = asyncio.get_running_loop().time()
        if self._examples is None or now - self._examples[0] > EXAMPLES_TTL_S:
            self._examples = (now, await self._ports.examples())
        return self._examples[1]

    async def _warm_up(self) -> None:
        """The first call should not wait for the grammar's examples or the greeting's synthesis."""
        spoken = self._config.dialogue.spoken
        try:
            await self.examples()
            await self._prompts.speech(spoken.greeting, spoken.voice)
        except Exception as err:  # the first call will try again
            logger.warning("voice.bot.warm_up_failed reason=%s", type(err).__name__)

    def _tell(self, fact: Fact) -> None:
        if self.publish is not None:
            self._spawn(self.publish(fact), "voice:bot:fact")

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
