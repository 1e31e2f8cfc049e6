"""Every recorded call quality-checked, end to end: a real Asterisk (tests/pbx_rig.py), sipp as the
caller and as the agent's phone speaking espeak-ng Korean (tests/speech_audio.py), the hub with the
quality worker on (the real Vosk Korean model in grammar mode, loaded once for the module's one
hub). A supervisor sets the billing queue's rules through the API; a call with a missing greeting,
a forbidden word and a long silence is flagged with exactly those rules at their times; a clean
call is not; the flagged call is listed with its moments and its recording plays from a moment
(HTTP range), and a review is stored."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import QualitySettings
from hub.embedded import free_port, free_udp_ports
from hub.storage.database import Db
from tests.clients import AgentClient
from tests.conftest import eventually, make_settings
from tests.integration.test_calls import voice_settings
from tests.pbx_rig import PbxRig, running_pbx, test_plan
from tests.speech_audio import duration_ms, speech_pcm, write_speech_pcap
from voice.pbx_config import AgentPhone

BILL = "요금을 확인하고 싶어요"
GRAMMAR = ["안녕하세요 고객님", BILL, "바보 같은 소리"]
RULES = [
    {"name": "greeting", "kind": "keywords", "speaker": "agent", "phrases": ["안녕하세요"], "to_ms": 15_000,
     "negate": True, "points": 20},
    # Two words in a row: one word heard by mistake on a telephone leg (packets late on a loaded
    # machine) does not make a forbidden phrase.
    {"name": "forbidden", "kind": "keywords", "speaker": "agent", "phrases": ["바보 같은"], "points": 30},
    {"name": "complaint-risk", "kind": "keywords", "speaker": "caller", "phrases": ["환불"], "points": 10},
    {"name": "silence", "kind": "silence", "longer_than_ms": 4_000, "points": 10},
    {"name": "agent-talk-over", "kind": "talk_over", "speaker": "agent", "longer_than_ms": 1_500, "points": 10},
]
TOLERANCE_MS = 800  # the agent's audio starts at her phone's answer, the recording at the bridge


@contextlib.asynccontextmanager
async def quality_hub(pbx: PbxRig, agi_port: int, db_name: str, mongo_url: str,
                      redis_url: str) -> AsyncIterator[RunningHub]:
    settings = make_settings(db_name, offer_timeout_s=8.0, reoffer_after_s=30.0)
    settings = settings.model_copy(update={
        "voice": voice_settings(pbx, agi_port, ring_timeout_s=5.0),
        "quality": QualitySettings(enabled=True, grammar={"ko": GRAMMAR}, poll_s=0.2)})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as hub:
        await load_demo(hub.context.directory)
        yield hub


async def agent_speech(work: Path, name: str, parts: Sequence[tuple[int, str]],
                       seconds: float) -> tuple[Path, list[int]]:
    """The agent phone's pcap: Korean phrases at their times, digital silence between (one PCM
    timeline, so every packet is encoded from it); and each phrase's length in ms."""
    pcms = [(at, await speech_pcm(text, "ko", work / "speech")) for at, text in parts]
    timeline = bytearray(int(seconds * 8000) * 2)
    for at, pcm in pcms:
        start = at * 16  # 8 kHz, 16-bit: 16 bytes a millisecond
        timeline[start:start + len(pcm)] = pcm[: len(timeline) - start]
    return (write_speech_pcap(work / f"{name}.pcap", [(0, bytes(timeline))], seconds),
            [duration_ms(pcm) for _, pcm in pcms])


async def one_call(pbx: PbxRig, db: Db, hub: RunningHub, phone_port: int, name: str, audio: Path,
                   hangup_ms: int) -> dict[str, Any]:
    """A billing call answered by chen's phone, which says ``audio`` and hangs up; its quality result."""
    phone = await pbx.phones.agent(f"{name}-phone", phone_port, answer_ms=300, hangup_ms=hangup_ms, audio=audio)
    chen = await AgentClient.online(hub.base_url, "chen")
    try:
        caller = await pbx.phones.caller(f"{name}-caller", "customer", "100", dtmf=[(2500, "1")], hangup_ms=None,
                                         seconds=3.0)  # the caller is quiet once the menu is done
        offer = await chen.next("offer", timeout=40)
        conversation_id = offer["conversation"]["id"]
        await eventually(lambda: _state(db, conversation_id, "wrap_up"), timeout=60)
        assert await caller.wait(timeout=30) == 0, caller.output()
        await chen.call("POST", f"/api/conversations/{conversation_id}/resolve")
        await phone.wait(timeout=30)
    finally:
        await phone.kill()
        await chen.close()
    result: dict[str, Any] = await eventually(
        lambda: db["quality_results"].find_one({"conversation_id": conversation_id}), timeout=180)
    return result


def _activity(result: dict[str, Any]) -> dict[str, Any]:
    return {speaker: leg["activity"] for speaker, leg in result["legs"].items()}


async def _state(db: Db, conversation_id: str, state: str) -> bool:
    doc = await db["conversations"].find_one({"_id": conversation_id}, {"state": 1})
    return doc is not None and doc["state"] == state


async def test_a_flagged_call_has_exactly_its_rules_and_moments_and_a_clean_call_is_not_flagged(
        tmp_path: Path, db: Db, db_name: str, mongo_url: str, redis_url: str) -> None:
    agi_port, phone_port = free_port(), free_udp_ports()
    agents = (AgentPhone(endpoint="agent-chen", password=None, contact=f"sip:chen@127.0.0.1:{phone_port}"),)
    rude, rude_ms = await agent_speech(tmp_path, "rude", [(1_000, "바보 같은 소리"), (9_000, BILL)], 13)
    polite, _ = await agent_speech(tmp_path, "polite", [(500, "안녕하세요 고객님"), (3_500, BILL)], 8)
    async with (running_pbx(test_plan(agi_port=agi_port, agents=agents), tmp_path / "pbx") as pbx,
                quality_hub(pbx, agi_port, db_name, mongo_url, redis_url) as hub):
        sara = await AgentClient(hub.base_url).login("sara")
        try:
            await sara.call("PUT", "/api/quality/rules/billing", {"rules": RULES})
            flagged = await one_call(pbx, db, hub, phone_port, "rude", rude, hangup_ms=12_500)
            clean = await one_call(pbx, db, hub, phone_port, "polite", polite, hangup_ms=7_000)

            # The flagged call: exactly the three rules, each at its moment.
            hits = {hit["rule"]: hit["moments"] for hit in flagged["hits"]}
            assert sorted(hits) == ["forbidden", "greeting", "silence"], (flagged["hits"], _activity(flagged))
            assert flagged["score"] == 100 - 20 - 30 - 10 and flagged["flagged"]
            # not said in its range, the first 15 s clipped to the call's 12.5 s
            assert [(m["at_ms"], m["end_ms"]) for m in hits["greeting"]] == [(0, flagged["duration_ms"])]
            assert len(hits["forbidden"]) == 1 and hits["forbidden"][0]["phrase"] == "바보 같은"
            assert abs(hits["forbidden"][0]["at_ms"] - 1_000) < TOLERANCE_MS, hits["forbidden"]
            assert len(hits["silence"]) == 1, hits["silence"]
            assert abs(hits["silence"][0]["at_ms"] - (1_000 + rude_ms[0])) < TOLERANCE_MS, hits["silence"]
            assert abs(hits["silence"][0]["end_ms"] - 9_000) < TOLERANCE_MS, hits["silence"]
            said = [w[0] for w in flagged["legs"]["agent"]["words"]]
            assert "바보" in said and "요금을" in said, said

            # The clean call: greeted, nothing forbidden, no long silence.
            assert clean["hits"] == [] and clean["score"] == 100 and not clean["flagged"], (
                clean["hits"], clean["legs"]["agent"]["words"], _activity(clean))
            assert clean["legs"]["agent"]["words"][0][0] == "안녕하세요"

            await supervisor_reviews(sara, hub, flagged)
        finally:
            await sara.close()


async def supervisor_reviews(sara: AgentClient, hub: RunningHub, flagged: dict[str, Any]) -> None:
    """The supervisor's list has the flagged call only, with its moments; the player seeks into the
    recording; her review is stored; the transcript is searchable."""
    listed = (await sara.call("GET", "/api/quality/flagged"))["calls"]
    assert [c["recording"] for c in listed] == [flagged["_id"]]
    moment = next(h for h in listed[0]["hits"] if h["rule"] == "forbidden")["moments"][0]
    offset = 44 + moment["at_ms"] * 16  # 8 kHz 16-bit: 16 bytes a millisecond after the wav header
    async with sara.session.get(hub.base_url + listed[0]["player"]["agent"],
                                headers={"Range": f"bytes={offset}-{offset + 15_999}"}) as resp:
        assert resp.status == 206 and len(await resp.read()) == 16_000
    review = {"score": 35, "note": "rude to the customer", "confirmed": ["forbidden", "greeting"]}
    stored = (await sara.call("POST", f"/api/quality/calls/{flagged['_id']}/review", review))["call"]["review"]
    assert stored["score"] == 35 and stored["confirmed"] == ["forbidden", "greeting"]
    await sara.call("POST", f"/api/quality/calls/{flagged['_id']}/review", {**review, "confirmed": ["silly"]},
                    expect=400)
    assert (await sara.call("GET", "/api/quality/flagged?unreviewed=1"))["calls"] == []
    found = (await sara.call("GET", f"/api/quality/search?q={quote('바보 같은')}"))["calls"]
    assert [c["recording"] for c in found] == [flagged["_id"]]
