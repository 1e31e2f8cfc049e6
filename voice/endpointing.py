"""Endpointing: where the caller's speech starts and their turn ends, and when they talk over a
prompt long enough to stop it. Pure: frames' levels in, decisions out, time counted in the frames'
own milliseconds (no clock, no I/O).

A frame is voiced when its RMS level reaches ``threshold``. Speech starts after ``start_ms`` of
voiced frames in a row (a click is not speech); the turn ends after ``end_silence_ms`` of unvoiced
frames (the pauses between syllables are shorter). While a prompt plays, speech becomes a barge-in
only once it has lasted ``barge_in_ms``: a backchannel ("嗯", "ok", under ~300 ms) ends before
that, and its turn is marked ``backchannel`` (the dialogue ignores it, the prompt goes on).
"""

from __future__ import annotations

import array
import math
import sys
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointConfig:
    threshold: float = 400.0  # RMS of 16-bit samples; line noise and A-law silence stay far below
    start_ms: int = 60
    end_silence_ms: int = 500
    barge_in_ms: int = 450
    max_turn_ms: int = 15_000  # a caller who never stops: the turn ends here all the same


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    at_ms: int  # the first voiced frame of the run


@dataclass(frozen=True, slots=True)
class BargeIn:
    at_ms: int  # when the speech had lasted ``barge_in_ms`` over the prompt


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnEnded:
    started_ms: int
    speech_end_ms: int  # the end of the last voiced frame
    decided_ms: int  # when the silence had lasted ``end_silence_ms``
    backchannel: bool  # spoken over a prompt and too short to stop it

    @property
    def detection_ms(self) -> int:
        """End-of-speech detection delay (LiveKit's ``end_of_utterance_delay``)."""
        return self.decided_ms - self.speech_end_ms


Decision = SpeechStarted | BargeIn | TurnEnded


def level(pcm: bytes) -> float:
    """The RMS of signed 16-bit little-endian samples."""
    samples = array.array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


class Endpointer:
    """Fed one frame at a time: ``feed(level, ms)`` returns what that frame decided (often nothing)."""

    def __init__(self, config: EndpointConfig) -> None:
        self._config = config
        self._now = 0
        self._run_start: int | None = None  # a voiced run not yet long enough to be speech
        self._speech_start: int | None = None
        self._last_voiced = 0
        self._prompt_playing = False
        self._over_prompt = False  # this speech began while a prompt played
        self._barged = False

    @property
    def now_ms(self) -> int:
        return self._now

    @property
    def in_speech(self) -> bool:
        return self._speech_start is not None

    def prompt(self, playing: bool) -> None:
        """The dialogue says when a prompt starts and stops playing."""
        self._prompt_playing = playing

    def feed(self, frame_level: float, ms: int) -> list[Decision]:
        config = self._config
        start, self._now = self._now, self._now + ms
        voiced = frame_level >= config.threshold
        decisions: list[Decision] = []
        if self._speech_start is None:
            if not voiced:
                self._run_start = None
                return decisions
            if self._run_start is None:
                self._run_start = start
            self._last_voiced = self._now
            if self._now - self._run_start >= config.start_ms:
                self._speech_start, self._run_start = self._run_start, None
                self._over_prompt, self._barged = self._prompt_playing, False
                decisions.append(SpeechStarted(self._speech_start))
            else:
                return decisions
        if voiced:
            self._last_voiced = self._now
        speech_start = self._speech_start
        assert speech_start is not None
        spoken = self._last_voiced - speech_start
        if self._prompt_playing and not self._barged and spoken >= config.barge_in_ms:
            self._barged = True
            decisions.append(BargeIn(self._now))
        silent = self._now - self._last_voiced
        if silent >= config.end_silence_ms or self._now - speech_start >= config.max_turn_ms:
            decisions.append(TurnEnded(started_ms=speech_start, speech_end_ms=self._last_voiced, decided_ms=self._now,
                                       backchannel=self._over_prompt and self._prompt_playing and not self._barged))
            self._speech_start = None
        return decisions
