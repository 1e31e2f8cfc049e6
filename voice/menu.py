"""The phone menu as a pure decision: what the caller's key press means. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Menu:
    """Digit -> queue id; ``callback``: the digit that asks to be called back (in ``default_queue``)."""

    choices: Mapping[str, str]
    default_queue: str
    attempts: int
    callback: str | None = None


@dataclass(frozen=True, slots=True)
class Chosen:
    """Wait for an agent of ``queue`` (``callback``: hang up now and be called back instead)."""

    queue: str
    choice: str | None
    callback: bool = False


@dataclass(frozen=True, slots=True)
class AskAgain:
    """Nothing or an unknown key: prompt again (``invalid``: say so first)."""

    invalid: bool


Outcome = Chosen | AskAgain


def decide(menu: Menu, pressed: str, attempt: int) -> Outcome:
    """``pressed`` is what the PBX read (empty on a timeout), ``attempt`` counts from 1. After the last
    attempt a caller who chose nothing goes to ``default_queue``: a caller is never hung up on by the
    menu. Only the first key counts (a caller pressing everything gets the first one's choice)."""
    digit = pressed.strip()[:1]
    if digit and digit == menu.callback:
        return Chosen(menu.default_queue, digit, callback=True)
    if digit in menu.choices:
        return Chosen(menu.choices[digit], digit)
    if attempt >= menu.attempts:
        return Chosen(menu.default_queue, None)
    return AskAgain(invalid=bool(digit))
