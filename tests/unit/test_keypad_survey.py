"""The keypad survey's decision (voice/keypad_survey.py): what one answer to the question means."""

from __future__ import annotations

from voice.keypad_survey import Key, decide


def test_a_key_from_1_to_5_is_the_score_whatever_the_attempt() -> None:
    assert [decide(str(n), 1).score for n in range(1, 6)] == [1, 2, 3, 4, 5]
    assert decide("4", 2) == Key(4, ask_again=False)


def test_no_key_or_another_key_is_asked_once_more_then_the_survey_ends() -> None:
    for pressed in ("", "0", "6", "9", "*", "#", " "):
        assert decide(pressed, 1) == Key(None, ask_again=True)
        assert decide(pressed, 2) == Key(None, ask_again=False)
