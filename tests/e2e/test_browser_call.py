"""A phone call in the agent's console (Chromium): the ringing offer with the caller and the menu
choice, the call panel's live status and timeline, no composer, and the recording's player seeking
through range requests. The hub runs without a PBX: the call is reported through the real core
port (``context.calls``) as the voice line reports it."""

from __future__ import annotations

import io
import re
import wave
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from hub.bootstrap import RunningHub
from hub.config import Settings, VoiceSettings
from hub.domain.calls import Party
from tests.e2e.test_browser_flow import login

CALL_ID = "1733240100.42"
REC = f"{CALL_ID}-1"
XSS_CALLER = '<img src=x onerror="window.__xss=1">'  # a caller ID is whatever the far end sends


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"voice": VoiceSettings(recordings_dir=tmp_path)})


def wav(seconds: float, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join((6000 if (i // 10) % 2 else -6000).to_bytes(2, "little", signed=True)
                               for i in range(int(seconds * rate))))
    return out.getvalue()


SEEK = """async (audio) => {
  if (audio.readyState < 1) await new Promise((ok) => audio.addEventListener('loadedmetadata', ok, { once: true }));
  const seeked = new Promise((ok) => audio.addEventListener('seeked', ok, { once: true }));
  audio.currentTime = 1.5;
  await seeked;
  return { duration: audio.duration, at: audio.currentTime };
}"""


async def test_the_call_panel_follows_the_call_live(hub: RunningHub, browser: Browser, tmp_path: Path,
                                                    artifacts: Path) -> None:
    alice = await login(browser, hub.base_url, "alice")
    errors: list[str] = []
    alice.on("pageerror", lambda exc: errors.append(str(exc)))
    await expect(alice.get_by_test_id("agent-status")).to_have_value("available")
    agent = await hub.context.directory.agent_by_username("alice")
    assert agent is not None
    calls = hub.context.calls
    conversation = await calls.arrived(call_id=CALL_ID, caller=XSS_CALLER, caller_channel="PJSIP/callers-00000009",
                                       choice="1", queue_id="billing")

    offer = alice.get_by_test_id("offers").get_by_test_id("conv-item")
    await expect(offer.get_by_test_id("offer-ringing")).to_contain_text("Your phone is ringing")
    await expect(offer.get_by_test_id("offer-call-details")).to_contain_text(f"{XSS_CALLER} · Menu 1 · Billing")
    await expect(offer.get_by_test_id("offer-decline")).to_be_enabled()
    await expect(offer.get_by_test_id("offer-accept")).to_have_count(0)  # a call is taken by answering the phone

    await calls.ringing(CALL_ID, agent.id, "hub-leg-9")
    await calls.answered(CALL_ID, agent.id, "hub-leg-9", recording=REC)
    item = alice.get_by_test_id("assigned").get_by_test_id("conv-item")
    await item.click()
    panel = alice.get_by_test_id("call-panel")
    await expect(panel).to_be_visible()
    await expect(alice.get_by_test_id("composer-input")).to_be_hidden()  # a call carries no text
    await expect(panel.get_by_test_id("call-caller")).to_have_text(XSS_CALLER)
    await expect(panel.get_by_test_id("call-status")).to_contain_text("Talking · 00:0")
    await expect(panel.get_by_test_id("call-status")).to_contain_text("Talking · 00:02", timeout=8000)  # it runs
    await expect(panel.get_by_test_id("call-hold")).to_be_enabled()
    await expect(panel.get_by_test_id("call-hold")).to_have_accessible_name("Put the caller on hold")
    # Resolving during the call ends her side of it (the caller goes to the survey: ADR 0054).
    await expect(alice.get_by_test_id("resolve")).to_be_enabled()
    await expect(alice.get_by_test_id("resolve")).to_have_attribute("title", re.compile("satisfaction survey"))

    # Voice is off on this hub: the button asks, the hub answers 503 and the console says why.
    await panel.get_by_test_id("call-hold").click()
    await expect(alice.get_by_test_id("toast")).to_contain_text("phone calls are not enabled")

    await calls.held(CALL_ID, True)
    await expect(panel.get_by_test_id("call-status")).to_contain_text("On hold")
    await expect(panel.get_by_test_id("call-hold")).to_have_text("Resume")
    await calls.held(CALL_ID, False)
    await expect(panel.get_by_test_id("call-status")).to_contain_text("Talking")
    (tmp_path / f"{REC}.wav").write_bytes(wav(3.0))
    (tmp_path / f"{REC}-caller.wav").write_bytes(wav(3.0))
    (tmp_path / f"{REC}-agent.wav").write_bytes(wav(3.0))
    await calls.hung_up(CALL_ID, Party.AGENT)
    await expect(panel.get_by_test_id("call-status")).to_contain_text("Ended by the agent")
    await expect(panel.get_by_test_id("call-hangup")).to_be_disabled()
    await expect(alice.get_by_test_id("resolve")).to_be_enabled()
    steps = panel.get_by_test_id("call-step")
    await expect(steps).to_have_count(7)
    await expect(steps.nth(2)).to_contain_text("Ringing (Alice Wang)")
    await expect(steps.nth(6)).to_contain_text("Hung up by the agent")
    await expect(alice.get_by_test_id("conversation")).to_have_attribute("data-state", "wrap_up")

    recordings = panel.get_by_test_id("call-recording")
    await expect(recordings).to_have_count(3)
    player = recordings.nth(0).locator("audio")
    await expect(player).to_have_attribute("aria-label", "Recording 1 · Both sides")
    seek = await player.evaluate(SEEK)
    assert abs(seek["duration"] - 3.0) < 0.1 and abs(seek["at"] - 1.5) < 0.1, seek
    assert await alice.evaluate("window.__xss") is None
    assert errors == []
    await alice.screenshot(path=str(artifacts / "call-panel.png"))
    assert conversation.channel == "voice"
