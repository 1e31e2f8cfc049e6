"""The supervisors' call quality page (Chromium): a flagged call listed with the rule that fired,
its moment seeks the recording's player (range requests), the transcript is inert text, and the
review form stores a score and the rules upheld. The scored call is stored as the worker stores
it (hub/storage/quality.py); tests/integration/test_call_quality.py makes one through Asterisk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from hub.bootstrap import RunningHub
from hub.config import Settings, VoiceSettings
from hub.domain.calls import Party
from hub.domain.quality import CallAnalysis, LegAnalysis, Rule, RuleKind, RuleSet, Span, Speaker, Word, evaluate
from hub.storage.database import Db
from hub.storage.quality import MongoQualityStore, QualityJob
from tests.conftest import eventually
from tests.e2e.test_browser_call import wav
from tests.e2e.test_browser_flow import login

CALL_ID = "1733240200.7"
REC = f"{CALL_ID}-1"
XSS_WORD = '<img src=x onerror="window.__xss=1">'
SEEKED = """async (audio) => {
  if (audio.currentTime > 0) return audio.currentTime;
  await new Promise((ok) => audio.addEventListener('seeked', ok, { once: true }));
  return audio.currentTime;
}"""


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"voice": VoiceSettings(recordings_dir=tmp_path)})


async def scored_call(hub: RunningHub, db: Db, tmp_path: Path) -> str:
    """A billing call alice (online) answered and hung up, recorded, scored: 'forbidden' fired."""
    calls = hub.context.calls
    conversation = await calls.arrived(call_id=CALL_ID, caller="+4915550001", caller_channel="PJSIP/callers-1",
                                       choice="1", queue_id="billing")
    agent = await hub.context.directory.agent_by_username("alice")
    assert agent is not None
    await eventually(lambda: _offered(db, conversation.id), timeout=20)
    await calls.ringing(CALL_ID, agent.id, "leg-1")
    await calls.answered(CALL_ID, agent.id, "leg-1", recording=REC)
    await calls.hung_up(CALL_ID, Party.AGENT)
    for suffix in ("", "-agent", "-caller"):
        (tmp_path / f"{REC}{suffix}.wav").write_bytes(wav(6.0))
    rules = RuleSet(queue="billing", rules=(
        Rule(name="forbidden", kind=RuleKind.KEYWORDS, speaker=Speaker.AGENT, phrases=("바보",), points=30),))
    analysis = CallAnalysis(duration_ms=6_000, legs=(
        LegAnalysis(speaker=Speaker.AGENT, words=(Word(text="바보", start_ms=2_500, end_ms=2_900),
                                                  Word(text=XSS_WORD, start_ms=3_000, end_ms=3_200)),
                    activity=(Span(start_ms=2_500, end_ms=3_200),)),
        LegAnalysis(speaker=Speaker.CALLER)))
    job = QualityJob(recording=REC, conversation_id=conversation.id, call_id=CALL_ID, queue="billing", seq=1,
                     ended_at=datetime.now(UTC))
    store = MongoQualityStore(db)
    await store.save_result(job, "ko", analysis, evaluate(rules, analysis), datetime.now(UTC))
    return conversation.id


async def test_a_supervisor_jumps_to_the_moment_and_reviews_the_call(hub: RunningHub, browser: Browser, db: Db,
                                                                     tmp_path: Path) -> None:
    sara = await login(browser, hub.base_url, "sara")
    await sara.get_by_test_id("agent-status").select_option("away")  # the call is alice's to take
    alice = await login(browser, hub.base_url, "alice")  # the call is offered to her, she answers it
    conversation_id = await scored_call(hub, db, tmp_path)
    # The transcript is on the conversation's timeline, for the agent who took the call.
    await alice.reload()
    await alice.get_by_test_id("conv-item").first.click()
    block = alice.get_by_test_id("timeline-transcript")
    await expect(block).to_contain_text("Call transcript · score 70 · forbidden")
    await expect(block).to_contain_text(f"0:02 Agent: 바보 {XSS_WORD}")
    answer = await alice.request.get(f"{hub.base_url}/api/conversations/{conversation_id}")
    timeline = (await answer.json())["timeline"]
    assert [e["transcript"]["lines"] for e in timeline if e["kind"] == "transcript"] == [
        [{"speaker": "agent", "start_ms": 2_500, "end_ms": 3_200, "text": f"바보 {XSS_WORD}"}]]
    await alice.close()
    errors: list[str] = []
    sara.on("pageerror", lambda exc: errors.append(str(exc)))
    await sara.goto(f"{hub.base_url}/console/quality")
    item = sara.get_by_test_id("qa-call")
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text("70")
    await expect(item).to_contain_text("forbidden")
    await item.click()
    await expect(sara.get_by_test_id("qa-hit")).to_contain_text("forbidden (-30)")
    await expect(sara.get_by_test_id("qa-transcript")).to_contain_text(XSS_WORD)  # text, never markup
    await sara.get_by_test_id("qa-moment").click()
    at = await sara.get_by_test_id("qa-player").evaluate(SEEKED)
    assert abs(at - 2.5) < 0.1
    assert await sara.evaluate("window.__xss") is None

    form = sara.get_by_test_id("qa-review")
    await form.locator("#qa-score").fill("40")
    await form.get_by_role("checkbox", name="forbidden").check()
    await form.get_by_role("button", name="Save review").click()
    await expect(form.locator("#qa-review-status")).to_have_text("Saved.")
    store = MongoQualityStore(db)
    review = await eventually(lambda: _review(store))
    assert review["score"] == 40 and review["confirmed"] == ["forbidden"]
    assert errors == []


async def _review(store: MongoQualityStore) -> dict[str, object] | None:
    doc = await store.result(REC)
    return doc.get("review") if doc else None


async def _offered(db: Db, conversation_id: str) -> bool:
    doc = await db["conversations"].find_one({"_id": conversation_id}, {"state": 1})
    return doc is not None and doc["state"] == "offered"
