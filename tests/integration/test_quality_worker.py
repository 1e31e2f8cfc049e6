"""The quality worker with the real Vosk model (Korean, grammar mode), real MongoDB and espeak-ng
speech written as recordings: a backlog is worked off in order, a job whose worker died is taken
again, a corrupt or missing recording fails its job with a clear error and the others go on."""

from __future__ import annotations

import asyncio
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.clock import SystemClock
from hub.config import QualitySettings
from hub.domain.quality import Rule, RuleKind, RuleSet, Speaker
from hub.storage.database import Db
from hub.storage.quality import MongoQualityStore, QualityJob
from hub.supervisor import Supervisor
from tests.conftest import eventually
from voice.qa_worker import QualityWorker

RATE = 8000
GRAMMAR = ["안녕하세요 고객님", "요금을 확인하고 싶어요", "바보 같은 소리"]
RULES = RuleSet(queue="*", rules=(
    Rule(name="greeting", kind=RuleKind.KEYWORDS, speaker=Speaker.AGENT, phrases=("안녕하세요",), to_ms=15_000,
         negate=True, points=20),
    Rule(name="forbidden", kind=RuleKind.KEYWORDS, speaker=Speaker.AGENT, phrases=("바보",), points=30),
    Rule(name="silence", kind=RuleKind.SILENCE, longer_than_ms=4_000, points=10)))


async def speech(text: str) -> bytes:
    """``text`` in espeak-ng's Korean voice as s16le mono at 8 kHz."""
    espeak = await asyncio.create_subprocess_exec("espeak-ng", "-v", "ko", "-s", "150", "--stdin", "--stdout",
                                                  stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    wav, _ = await espeak.communicate(text.encode())
    sox = await asyncio.create_subprocess_exec("sox", "-q", "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-c", "1",
                                               "-b", "16", "-e", "signed-integer", "-L", "-",
                                               stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    pcm, _ = await sox.communicate(wav)
    assert pcm, "espeak-ng or sox made no audio"
    return pcm


def write_wav(path: Path, parts: list[tuple[int, bytes]], seconds: float) -> None:
    audio = bytearray(int(seconds * RATE) * 2)
    for at_ms, pcm in parts:
        start = at_ms * RATE // 1000 * 2
        audio[start:start + len(pcm)] = pcm[: len(audio) - start]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(audio))


def job(recording: str, seq: int, ended_at: datetime) -> QualityJob:
    return QualityJob(recording=recording, conversation_id=f"c-{recording}", call_id=f"call-{recording}",
                      queue="billing", seq=seq, ended_at=ended_at)


async def test_a_backlog_is_worked_off_in_order_and_bad_recordings_fail_alone(db: Db, tmp_path: Path) -> None:
    store = MongoQualityStore(db)
    await store.ensure_indexes()
    await store.put_rule_set(RULES, by="test", at=datetime.now(UTC))
    now = datetime.now(UTC)
    rude = await speech("바보 같은 소리")
    polite = await speech("안녕하세요 고객님")
    write_wav(tmp_path / "flagged-agent.wav", [(1000, rude)], 9.0)
    write_wav(tmp_path / "flagged-caller.wav", [], 9.0)
    write_wav(tmp_path / "clean-agent.wav", [(500, polite)], 4.0)
    write_wav(tmp_path / "clean-caller.wav", [], 4.0)
    (tmp_path / "corrupt-agent.wav").write_bytes(b"this is not a wav file at all")
    write_wav(tmp_path / "corrupt-caller.wav", [], 1.0)
    # The backlog a restart finds: queued while no worker ran, and one job a dead worker had taken.
    for name, seq in (("flagged", 40), ("corrupt", 20), ("missing", 10), ("clean", 30)):
        await store.enqueue(job(name, seq, now - timedelta(minutes=5)), now)
    await store.claim(now - timedelta(hours=1), lease_s=1.0)  # "missing" (seq 10), its lease long gone

    settings = QualitySettings(enabled=True, grammar={"ko": GRAMMAR}, poll_s=0.2, settle_s=30.0)
    async with Supervisor() as supervisor, QualityWorker(settings, store, tmp_path, SystemClock()) as worker:
        supervisor.start("voice:quality", worker.run)
        await eventually(lambda: worker.done == 4, timeout=180)

    jobs = {name: await store.job(name) for name in ("missing", "corrupt", "clean", "flagged")}
    assert {name: doc["status"] for name, doc in jobs.items() if doc} == {
        "missing": "failed", "corrupt": "failed", "clean": "done", "flagged": "done"}
    assert "caller leg: missing or still being written 30 s after the call" in jobs["missing"]["error"]
    assert jobs["corrupt"]["error"].startswith("agent leg: not a wav file")
    finished = sorted(jobs, key=lambda name: jobs[name]["finished_at"])
    assert finished == ["missing", "corrupt", "clean", "flagged"]  # the event's order: oldest call first

    clean = await store.result("clean")
    assert clean is not None and clean["score"] == 100 and not clean["flagged"], clean["hits"]
    assert [w[0] for w in clean["legs"]["agent"]["words"]][:1] == ["안녕하세요"]
    flagged = await store.result("flagged")
    assert flagged is not None and flagged["flagged"] and flagged["score"] == 40
    hits = {hit["rule"]: hit["moments"] for hit in flagged["hits"]}
    assert sorted(hits) == ["forbidden", "greeting", "silence"]
    assert hits["greeting"][0]["at_ms"] == 0
    assert abs(hits["forbidden"][0]["at_ms"] - 1000) < 400 and hits["forbidden"][0]["phrase"] == "바보"
    silence = hits["silence"][0]
    assert abs(silence["at_ms"] - (1000 + len(rude) // 16)) < 500 and silence["end_ms"] == 9000
