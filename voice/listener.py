"""The caller's side of a voice-bot call: every frame the caller sends, for the whole call, goes
through the endpointer (``voice.endpointing``) and, while they speak, into a recognition stream
(``voice.stt_stream``); key presses and recognised turns are queued for the dialogue
(``voice.voice_bot.Dialogue``) in the order they happened. Speech over a prompt long enough to be a
barge-in, and any key, stop the prompt at once (``MediaCall.stop``)."""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from voice.endpointing import BargeIn, Endpointer, SpeechStarted, TurnEnded, level
from voice.media_audiosocket import RATE, Audio, Dtmf, Gone, MediaCall
from voice.stt_stream import Recogniser, RecognitionFailed, RecognitionStream

if TYPE_CHECKING:
    from voice.voice_bot import VoiceBotConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Heard:
    text: str
    speech_end_at: float  # loop time
    decided_at: float
    recognised_at: float


@dataclass(frozen=True, slots=True)
class Pressed:
    digit: str
    at: float


Event = Heard | Pressed | Gone


class Listener:
    """Reads the caller's audio for the whole call: endpointing, recognition, key presses."""

    def __init__(self, media: MediaCall, recogniser: Recogniser, config: VoiceBotConfig) -> None:
        self._media = media
        self._recogniser = recogniser
        self._config = config
        self.endpointer = Endpointer(config.endpointing)
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.grammar: tuple[str, ...] = ()
        self.barge_ins = 0
        self.recognising = 0
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def busy(self) -> bool:
        """The caller is speaking, or their last turn is still being recognised."""
        return self.endpointer.in_speech or self.recognising > 0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        preroll: collections.deque[bytes] = collections.deque()
        preroll_ms = 0
        stream: RecognitionStream | None = None
        try:
            while True:
                item = await self._media.incoming()
                if isinstance(item, Gone):
                    await self.events.put(item)
                    return
                if isinstance(item, Dtmf):
                    self._media.stop()
                    await self.events.put(Pressed(item.digit, loop.time()))
                    continue
                assert isinstance(item, Audio)
                preroll.append(item.pcm)
                preroll_ms += item.ms
                while preroll_ms - Audio(preroll[0]).ms >= self._config.preroll_ms:
                    preroll_ms -= Audio(preroll.popleft()).ms
                if stream is not None:
                    stream.feed(item.pcm)
                for decision in self.endpointer.feed(level(item.pcm), item.ms):
                    if isinstance(decision, SpeechStarted):
                        stream = await self._open()
                        if stream is not None:
                            for pcm in preroll:
                                stream.feed(pcm)
                    elif isinstance(decision, BargeIn):
                        self.barge_ins += 1
                        self._media.stop()
                    elif isinstance(decision, TurnEnded):
                        now = loop.time()
                        ended = now - (self.endpointer.now_ms - decision.speech_end_ms) / 1000
                        if stream is not None and not decision.backchannel:
                            self._spawn(self._recognise(stream, ended, now))
                        elif stream is not None:
                            stream.cancel()
                        stream = None
        finally:
            if stream is not None:
                stream.cancel()
            for task in list(self._tasks):
                task.cancel()

    async def _open(self) -> RecognitionStream | None:
        try:
            return await self._recogniser.open(self._config.language, RATE,
                                               self.grammar if self._config.grammar else None)
        except RecognitionFailed as err:
            logger.warning("voice.bot.recognition_unavailable reason=%s", err)
            return None

    async def _recognise(self, stream: RecognitionStream, speech_end_at: float, decided_at: float) -> None:
        self.recognising += 1
        try:
            heard = await stream.finish()
            text = heard.text
        except RecognitionFailed as err:
            logger.warning("voice.bot.recognition_failed reason=%s", err)
            text = ""
        finally:
            self.recognising -= 1
        await self.events.put(Heard(text, speech_end_at, decided_at, asyncio.get_running_loop().time()))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
