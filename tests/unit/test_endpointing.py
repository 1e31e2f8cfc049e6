"""Endpointing on frames (voice/endpointing.py): speech start, end of turn, barge-in, backchannels."""

from __future__ import annotations

import struct

from voice.endpointing import BargeIn, Decision, EndpointConfig, Endpointer, SpeechStarted, TurnEnded, level

CONFIG = EndpointConfig(threshold=400.0, start_ms=60, end_silence_ms=500, barge_in_ms=450)
LOUD, QUIET = 3000.0, 20.0


def run(endpointer: Endpointer, pattern: list[tuple[float, int]]) -> list[Decision]:
    """Feed 20 ms frames: ``(level, ms)`` pairs, each as many frames as its milliseconds make."""
    decisions: list[Decision] = []
    for frame_level, ms in pattern:
        for _ in range(ms // 20):
            decisions += endpointer.feed(frame_level, 20)
    return decisions


def test_level_is_the_rms_of_16_bit_samples() -> None:
    assert level(struct.pack("<4h", 1000, -1000, 1000, -1000)) == 1000.0
    assert level(b"") == 0.0 and level(b"\x01") == 0.0


def test_a_turn_ends_after_the_configured_silence_and_says_how_long_detection_took() -> None:
    endpointer = Endpointer(CONFIG)
    decisions = run(endpointer, [(QUIET, 200), (LOUD, 1000), (QUIET, 200), (LOUD, 400), (QUIET, 700)])
    assert decisions[0] == SpeechStarted(200)
    ended = [d for d in decisions if isinstance(d, TurnEnded)]
    assert ended == [TurnEnded(started_ms=200, speech_end_ms=1800, decided_ms=2300, backchannel=False)]
    assert ended[0].detection_ms == 500  # the 200 ms pause inside the turn did not end it


def test_a_click_is_not_speech() -> None:
    assert run(Endpointer(CONFIG), [(LOUD, 40), (QUIET, 1000), (LOUD, 40), (QUIET, 1000)]) == []


def test_speech_over_a_prompt_barges_in_once_it_lasts_long_enough() -> None:
    endpointer = Endpointer(CONFIG)
    endpointer.prompt(True)
    decisions = run(endpointer, [(QUIET, 100), (LOUD, 1200)])
    barge = [d for d in decisions if isinstance(d, BargeIn)]
    assert barge == [BargeIn(560)]  # speech from 100 ms, 450 ms of it (+ one frame) at 560 ms
    endpointer.prompt(False)
    ended = [d for d in run(endpointer, [(QUIET, 600)]) if isinstance(d, TurnEnded)]
    assert len(ended) == 1 and not ended[0].backchannel


def test_a_backchannel_over_a_prompt_does_not_stop_it_and_is_no_turn() -> None:
    endpointer = Endpointer(CONFIG)
    endpointer.prompt(True)
    decisions = run(endpointer, [(QUIET, 300), (LOUD, 300), (QUIET, 600)])  # "嗯": 300 ms
    assert not any(isinstance(d, BargeIn) for d in decisions)
    assert [d.backchannel for d in decisions if isinstance(d, TurnEnded)] == [True]


def test_a_caller_who_never_stops_gets_a_turn_at_the_maximum() -> None:
    endpointer = Endpointer(EndpointConfig(max_turn_ms=2000))
    ended = [d for d in run(endpointer, [(LOUD, 5000)]) if isinstance(d, TurnEnded)]
    assert len(ended) == 2 and ended[0].decided_ms - ended[0].started_ms == 2000
