"""The call's JSON and the recording file rule of console/calls_api.py (pure parts, a real temp dir)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.calls_api import call_json, call_state, durations, existing_legs, recording_path
from hub.domain.calls import CallRecord, CallStep, Party, Step
from hub.domain.ids import AgentId, ConversationId

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def record(*steps: tuple[float, Step, dict[str, str]], **fields: object) -> CallRecord:
    return CallRecord(call_id="17.1", conversation_id=ConversationId("c_1"), caller="+8613800138000",
                      caller_channel="PJSIP/callers-1", started_at=T0,
                      steps=tuple(CallStep(at=at(s), step=k, detail=d) for s, k, d in steps), **fields)  # type: ignore[arg-type]


MENU = (0.0, Step.MENU, {"choice": "1", "queue": "billing"})
RING = (5.0, Step.RINGING, {"agent_id": "a_1"})


def test_the_state_of_a_call_follows_its_record() -> None:
    assert call_state(record(MENU)) == "waiting"
    assert call_state(record(MENU, RING)) == "ringing"
    assert call_state(record(MENU, RING, (20.0, Step.NO_ANSWER, {"agent_id": "a_1"}))) == "waiting"
    assert call_state(record(MENU, RING, answered_at=at(8))) == "talking"
    assert call_state(record(MENU, RING, answered_at=at(8), held_since=at(30))) == "held"
    assert call_state(record(MENU, answered_at=at(8), ended_at=at(60), ended_by=Party.CALLER)) == "ended"


def test_durations_count_on_while_live_and_stop_at_the_end() -> None:
    live = record(MENU, RING, answered_at=at(8), held_since=at(30), hold_s=4.0)
    assert durations(live, at(40)) == {"wait_s": 8.0, "talk_s": 32.0, "hold_s": 14.0}
    ended = record(MENU, answered_at=at(8), ended_at=at(60), hold_s=4.0)
    assert durations(ended, at(999)) == {"wait_s": 8.0, "talk_s": 52.0, "hold_s": 4.0}
    abandoned = record(MENU, ended_at=at(12))
    assert durations(abandoned, at(999)) == {"wait_s": 12.0, "talk_s": None, "hold_s": 0.0}


def test_call_json_names_the_ringing_agent_and_lists_only_recordings_shown() -> None:
    ringing = call_json(record(MENU, RING, recordings=("17.1-1",)), at(6), names={"a_1": "Alice"}, legs={})
    assert ringing["agent"] == {"id": "a_1", "display_name": "Alice"} and ringing["recordings"] == []
    assert ringing["queue"] == "billing" and ringing["steps"][1]["agent_name"] == "Alice"
    talked = call_json(record(MENU, agent_id=AgentId("a_2"), answered_at=at(3), recordings=("17.1-1",)), at(9),
                       names={}, legs={"17.1-1": ["mix"]})
    assert talked["recordings"] == [{"name": "17.1-1", "legs": ["mix"]}] and talked["agent"]["id"] == "a_2"


@pytest.mark.parametrize(("name", "leg"), [
    ("17.1-1", "both"), ("other", "mix"), ("../17.1-1", "mix"), ("/etc/passwd", "mix"), (".hidden", "mix"),
    ("..", "mix"), ("17.1-1/..", "mix"),
])
def test_recording_paths_only_for_listed_safe_names(tmp_path: Path, name: str, leg: str) -> None:
    listed = ("17.1-1", "../17.1-1", "/etc/passwd", ".hidden", "..", "17.1-1/..")  # even if a record held them
    assert recording_path(tmp_path, listed, name, leg) is None


def test_existing_legs_are_the_files_there(tmp_path: Path) -> None:
    (tmp_path / "17.1-1.wav").write_bytes(b"RIFF")
    (tmp_path / "17.1-1-agent.wav").write_bytes(b"RIFF")
    assert recording_path(tmp_path, ("17.1-1",), "17.1-1", "caller") == tmp_path.resolve() / "17.1-1-caller.wav"
    assert existing_legs(tmp_path, ("17.1-1", "17.1-2")) == {"17.1-1": ["mix", "agent"], "17.1-2": []}
