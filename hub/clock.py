"""Time is injected: every decision takes ``now`` from a Clock, so tests can hold it still."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        # MongoDB stores milliseconds; truncate so a value read back equals the one written.
        t = datetime.now(UTC)
        return t.replace(microsecond=t.microsecond // 1000 * 1000)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)


def to_ms(at: datetime) -> int:
    return (at - EPOCH) // ONE_MS  # exact integer arithmetic; float timestamps lose a millisecond


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def iso(at: datetime | None) -> str | None:
    """ISO-8601 UTC with milliseconds and a ``Z``, the wire format of every API."""
    if at is None:
        return None
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """Inverse of :func:`iso`; raises ValueError on anything else."""
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError("timestamp without a timezone")
    return at
