"""Surveys by keypad (issues 14 and 15): the question spoken (espeak-ng, cached), one key read.

Two AGI scripts share the asking: ``survey`` runs on the caller's channel after the agent hung up
(the line sent it to the dialplan's ``hub-after-call``), ``order_survey`` on the customer's channel
of a work order's callback survey call (``hub-order-survey``). What a key means is :func:`decide`
(pure): 1-5 is the score; nothing or another key asks once more, then the call ends politely
without an answer.

The prompts are made by ``voice.tts.PromptCache`` (one synthesis per text and voice) and written
beside it as ``.sln`` (8 kHz signed linear), the raw format Asterisk plays by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from hub.call_ports import CallLine
from hub.domain.surveys import SCALE, Survey, SurveyState
from voice.agi import AgiSession, CallGone
from voice.tts import PromptCache, SpeechFailed, Voice

logger = logging.getLogger(__name__)

ATTEMPTS = 2  # the question, and once more after no key or a wrong one


@dataclass(frozen=True, slots=True)
class Key:
    """What one answer to the question means: ``score`` 1-5, or None and whether to ask again."""

    score: int | None
    ask_again: bool


def decide(pressed: str, attempt: int) -> Key:
    """``pressed``: what GET DATA read (empty on a timeout); ``attempt`` counts from 1."""
    digit = pressed.strip()[:1]
    if digit.isdigit() and int(digit) in SCALE:
        return Key(int(digit), ask_again=False)
    return Key(None, ask_again=attempt < ATTEMPTS)


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyPrompts:
    question: str
    thanks: str
    goodbye: str
    voice: Voice
    timeout_s: float


class PhonePrompts:
    """Spoken prompts as files the PBX plays: ``await sound(text)`` -> the name for STREAM FILE."""

    def __init__(self, cache: PromptCache, directory: Path, directory_pbx: PurePosixPath) -> None:
        self._cache = cache
        self._directory = directory
        self._directory_pbx = directory_pbx

    async def sound(self, text: str, voice: Voice) -> str:
        path = self._cache.path_of(text, voice)
        sln = self._directory / (path.stem + ".sln")
        if not sln.exists():
            pcm = await self._cache.speech(text, voice)
            await asyncio.to_thread(_write, sln, pcm)
        return str(self._directory_pbx / path.stem)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    temporary.chmod(0o644)
    temporary.replace(path)


async def ask(session: AgiSession, prompts: PhonePrompts, texts: SurveyPrompts) -> int | None:
    """Ask the question (twice at most) and say goodbye; the score, or None."""
    question = await prompts.sound(texts.question, texts.voice)
    timeout_ms = int(texts.timeout_s * 1000)
    attempt = 1
    while True:
        reply = await session.command(f"GET DATA {question} {timeout_ms} 1", timeout_s=texts.timeout_s + 60)
        pressed = reply.result if reply.data != "timeout" or reply.result else ""
        key = decide(pressed, attempt)
        if key.score is not None or not key.ask_again:
            break
        attempt += 1
    ending = texts.thanks if key.score is not None else texts.goodbye
    with contextlib.suppress(SpeechFailed):
        await session.command(f'STREAM FILE {await prompts.sound(ending, texts.voice)} ""', timeout_s=30)
    return key.score


class CallSurveys(Protocol):
    """The survey side (``hub.surveys.service.SurveyService``)."""

    async def open_call(self, conversation_id: str, *, agent_id: str | None) -> Survey | None: ...

    async def answered(self, survey: Survey, score: int, ref: str | None,
                       from_states: tuple[SurveyState, ...] = ...) -> bool: ...

    async def stopped(self, survey: Survey) -> None: ...


class AfterCallSurvey:
    """The AGI script ``survey``: the customer's channel after the agent hung up (or resolved the
    conversation while the customer was on the line): an inbound call, a call back, an outbound call."""

    def __init__(self, *, calls: CallLine, surveys: CallSurveys, prompts: PhonePrompts, texts: SurveyPrompts) -> None:
        self._calls = calls
        self._surveys = surveys
        self._prompts = prompts
        self._texts = texts

    async def __call__(self, session: AgiSession) -> None:
        # A call back's customer leg names its call (``HUB_SURVEY_CALL``, inherited from the agent's leg
        # by Dial); an inbound caller's leg is the call (its unique id is the call id).
        named = (await session.command("GET VARIABLE HUB_SURVEY_CALL")).data or ""
        call_id = named.strip() or session.head.get("uniqueid", "").strip()
        record = await self._calls.call(call_id) if call_id else None
        if record is None or record.answered_at is None:
            logger.info("voice.survey.skipped reason=no_answered_call")
            return
        survey = await self._surveys.open_call(record.conversation_id, agent_id=record.agent_id)
        if survey is None:
            logger.info("voice.survey.skipped conv=%s reason=already_surveyed", record.conversation_id)
            return
        try:
            score = await ask(session, self._prompts, self._texts)
        except SpeechFailed as err:
            logger.warning("voice.survey.no_prompt conv=%s reason=%s", record.conversation_id, err)
            score = None
        except CallGone:
            await self._surveys.stopped(survey)  # the caller hung up first: ended unanswered
            raise
        if score is None:
            await self._surveys.stopped(survey)
            logger.info("voice.survey.unanswered conv=%s", record.conversation_id)
            return
        await self._surveys.answered(survey, score, f"voice:{call_id}")
        logger.info("voice.survey.answered conv=%s", record.conversation_id)
