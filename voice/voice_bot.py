"""The voice bot: one call's dialogue with the same bot that answers chats, by voice.

The caller's audio (``voice.media_audiosocket``) runs through the endpointer (``voice.endpointing``)
and, while they speak, into a recognition stream (``voice.stt_stream``, a worker process). When
their turn ends, what was heard is read against the grammar (``voice.grammar``: the bot's curated
examples and quick replies), given to the bot through the hub (``BotTurns``: the same turns,
handover policy and handover card as chat), and the reply is spoken (``voice.tts``) and played.

- Barge-in: speech over a prompt that lasts ``barge_in_ms`` stops it at once; a backchannel does not.
- Quick replies become "say <title>, or press <n>"; a key press is accepted at any time, and stops
  the prompt.
- Silence after a prompt, or words the grammar does not know: a re-prompt, and after ``attempts``
  of them in a row the call is handed over (into our ACD, with the card, as the menu's agent choice).
- Per turn, the latency facts (``VoiceTurnTimed``): end-of-speech detection, recognition, bot,
  speech synthesis, and their sum from the end of the caller's speech to the first audio back.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hub.domain.bot import Button, HandoverReason
from hub.domain.events import VoiceTurnTimed
from hub.domain.ids import ConversationId
from voice.endpointing import EndpointConfig
from voice.grammar import closest, normalise, phrases
from voice.listener import Event, Heard, Listener, Pressed
from voice.media_audiosocket import Gone, MediaCall
from voice.stt_stream import Recogniser
from voice.tts import PromptCache, SpeechFailed, Voice

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Spoken:
    """What the bot says in one language (configuration: nothing is hard-coded)."""

    voice: Voice
    greeting: str
    reprompt: str  # after silence
    no_match: str  # after words the bot does not know
    handover: str  # before the caller waits for an agent
    choice: str = "{title}: {digit}."  # one quick reply; {title} and {digit} filled


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceBotConfig:
    language: str
    spoken: Spoken
    endpointing: EndpointConfig
    silence_s: float = 5.0  # no speech this long after a prompt ends: silence
    attempts: int = 2  # silences or no-matches in a row before the call is handed over
    grammar: bool = True
    preroll_ms: int = 300  # audio kept from before the speech started (its first syllable)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the bot answered one turn: its replies (text, quick replies), or that it handed over."""

    replies: tuple[tuple[str, tuple[Button, ...]], ...]
    handed_over: bool


class BotTurns(Protocol):
    """What the dialogue needs of the hub (``voice.bot_turns`` implements it)."""

    async def say(self, conversation_id: str, text: str, *, payload: str | None, turn: int) -> Answer: ...

    async def give_up(self, conversation_id: str, reason: HandoverReason) -> None: ...

    async def examples(self, language: str) -> Sequence[str]: ...


class Outcome(enum.StrEnum):
    HANDED_OVER = "handed_over"  # the caller waits for an agent now
    GONE = "gone"  # the caller hung up


def choices_text(spoken: Spoken, buttons: Sequence[Button]) -> str:
    return " ".join(spoken.choice.format(title=b.title, digit=n) for n, b in enumerate(buttons, 1))


class Dialogue:
    """``await Dialogue(...).run()`` talks with one caller until they are handed over or hang up."""

    def __init__(self, *, media: MediaCall, recogniser: Recogniser, prompts: PromptCache, turns: BotTurns,
                 config: VoiceBotConfig, call_id: str, conversation_id: str,
                 tell: Callable[[VoiceTurnTimed], None], on_handover: Callable[[], None]) -> None:
        self._media = media
        self._prompts = prompts
        self._turns = turns
        self._config = config
        self._call_id = call_id
        self._conversation_id = conversation_id
        self._tell = tell
        self._on_handover = on_handover
        self._listener = Listener(media, recogniser, config)
        self._buttons: tuple[Button, ...] = ()
        self._examples: tuple[str, ...] = ()
        self._pending_pcm: bytes | None = None  # the reply, spoken, for the next prompt
        self._pending_timing: tuple[float, float, float, float, float, str] | None = None
        self.turns = 0

    @property
    def barge_ins(self) -> int:
        return self._listener.barge_ins

    async def run(self) -> Outcome:
        spoken = self._config.spoken
        if self._config.grammar:
            self._examples = phrases(self._config.language, await self._turns.examples(self._config.language))
            self._set_buttons(())
        listening = asyncio.create_task(self._listener.run(), name=f"voice:bot:listen:{self._call_id}")
        try:
            prompt = self._with_choices(spoken.greeting)
            misses = 0
            while True:
                event = await self._speak_and_wait(prompt)
                if isinstance(event, Gone):
                    return Outcome.GONE
                said = self._understood(event)
                if said is None:
                    misses += 1
                    if misses >= self._config.attempts:
                        await self._turns.give_up(self._conversation_id, HandoverReason.REPEATED_FALLBACK)
                        return await self._handed_over()
                    prompt = self._with_choices(spoken.reprompt if event is None else spoken.no_match)
                    continue
                misses = 0
                text, payload = said
                assert event is not None
                reply = await self._turn(event, text, payload)
                if reply is None:
                    return await self._handed_over()
                prompt = reply
        finally:
            listening.cancel()
            await asyncio.gather(listening, return_exceptions=True)

    # -- one turn ---------------------------------------------------------------------------------
    def _understood(self, event: Heard | Pressed | None) -> tuple[str, str | None] | None:
        """The caller's words as the bot gets them (and a quick reply's payload); None: no match."""
        if event is None:
            return None
        if isinstance(event, Pressed):
            index = int(event.digit) - 1 if event.digit.isdigit() else -1
            if 0 <= index < len(self._buttons):
                button = self._buttons[index]
                return button.title, button.payload
            return None
        if not event.text:
            return None
        if not self._config.grammar:
            return event.text, None
        phrase = closest(event.text, self._listener.grammar)
        if phrase is None:
            return None
        chosen = next((b for b in self._buttons if normalise(b.title) == phrase), None)
        return (chosen.title, chosen.payload) if chosen else (phrase, None)

    async def _turn(self, event: Heard | Pressed, text: str, payload: str | None) -> str | None:
        """The bot's turn: its reply spoken and its first audio timed; None when it handed over."""
        loop = asyncio.get_running_loop()
        self.turns += 1
        bot_started = loop.time()
        answer = await self._turns.say(self._conversation_id, text, payload=payload, turn=self.turns)
        bot_done = loop.time()
        if answer.handed_over:
            return None
        texts = [reply_text for reply_text, _ in answer.replies]
        buttons = next((b for _, b in reversed(answer.replies) if b), ())
        self._set_buttons(buttons)
        reply = self._with_choices(" ".join(texts)) if texts else self._with_choices(self._config.spoken.reprompt)
        pcm = await self._speech(reply)
        synthesised = loop.time()
        if isinstance(event, Heard):
            end, detection, recognition = event.speech_end_at, event.decided_at - event.speech_end_at, \
                event.recognised_at - event.decided_at
        else:
            end, detection, recognition = event.at, 0.0, 0.0
        self._pending_timing = (end, detection, recognition, bot_done - bot_started, synthesised - bot_done,
                                "speech" if isinstance(event, Heard) else "dtmf")
        self._pending_pcm = pcm
        return reply

    def _first_audio(self, at: float) -> None:
        timing = self._pending_timing
        if timing is None:
            return
        self._pending_timing = None
        end, detection, recognition, bot, synthesis, source = timing
        self._tell(VoiceTurnTimed(
            call_id=self._call_id, conversation_id=ConversationId(self._conversation_id), turn=self.turns,
            source=source, detection_ms=round(detection * 1000, 1), recognition_ms=round(recognition * 1000, 1),
            bot_ms=round(bot * 1000, 1), synthesis_ms=round(synthesis * 1000, 1),
            total_ms=round((at - end) * 1000, 1)))

    # -- prompts ----------------------------------------------------------------------------------
    async def _speak_and_wait(self, prompt: str) -> Event | None:
        """Play ``prompt`` (stopped by barge-in or a key) and return the caller's next turn: None
        when they said nothing for ``silence_s`` after it."""
        pcm = self._pending_pcm or await self._speech(prompt)
        self._pending_pcm = None
        endpointer = self._listener.endpointer
        endpointer.prompt(True)
        playing = asyncio.create_task(self._media.play(pcm, on_first=self._first_audio))
        waiting = asyncio.create_task(self._listener.events.get())
        try:
            done, _ = await asyncio.wait({playing, waiting}, return_when=asyncio.FIRST_COMPLETED)
            if waiting in done:
                self._media.stop()
                return waiting.result()
            endpointer.prompt(False)
            while True:
                try:
                    async with asyncio.timeout(self._config.silence_s):
                        return await asyncio.shield(waiting)
                except TimeoutError:
                    if not self._listener.busy:
                        waiting.cancel()
                        return None
        finally:
            endpointer.prompt(False)
            self._media.stop()
            if not waiting.done():
                waiting.cancel()
            await asyncio.gather(playing, return_exceptions=True)

    async def _handed_over(self) -> Outcome:
        self._on_handover()  # the line learns the call now: the ACD's offer may come at once
        with contextlib.suppress(SpeechFailed):
            pcm = await self._prompts.speech(self._config.spoken.handover, self._config.spoken.voice)
            await self._media.play(pcm)
        return Outcome.HANDED_OVER

    async def _speech(self, text: str) -> bytes:
        try:
            return await self._prompts.speech(text, self._config.spoken.voice)
        except SpeechFailed as err:
            logger.warning("voice.bot.speech_failed reason=%s", err)
            return b""

    def _with_choices(self, text: str) -> str:
        choices = choices_text(self._config.spoken, self._buttons)
        return f"{text} {choices}".strip()

    def _set_buttons(self, buttons: tuple[Button, ...]) -> None:
        self._buttons = buttons
        if self._config.grammar:
            self._listener.grammar = phrases(self._config.language, self._examples, [b.title for b in buttons])
