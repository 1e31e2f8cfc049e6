"""Voice activity of one recorded leg (pure: samples in, spans out): where the leg carries speech.

An energy detector, enough for a telephone leg that carries one speaker: 20 ms frames whose RMS is
at least ``level`` are voiced; voiced frames closer than ``bridge_ms`` are one stretch (the pauses
between words), and stretches shorter than ``min_ms`` are dropped (clicks, line noise). Silence and
talk-over rules (hub/domain/quality.py) read these spans.
"""

from __future__ import annotations

import array
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

from hub.domain.quality import Span

FRAME_MS = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivitySettings:
    level: int = 400  # RMS of a 16-bit frame (about -38 dBFS)
    bridge_ms: int = 400
    min_ms: int = 120


def frame_levels(samples: Sequence[int], rate: int) -> list[float]:
    """The RMS of each whole ``FRAME_MS`` frame."""
    size = rate * FRAME_MS // 1000
    levels = []
    for start in range(0, len(samples) - size + 1, size):
        frame = samples[start:start + size]
        levels.append(math.sqrt(sum(map(operator.mul, frame, frame)) / size))
    return levels


def voice_activity(samples: Sequence[int] | array.array[int], rate: int,
                   settings: ActivitySettings = ActivitySettings()) -> tuple[Span, ...]:
    """The stretches of speech in ``samples`` (16-bit mono at ``rate``), in ms from their start."""
    stretches: list[list[int]] = []
    for index, level in enumerate(frame_levels(samples, rate)):
        if level < settings.level:
            continue
        start, end = index * FRAME_MS, (index + 1) * FRAME_MS
        if stretches and start - stretches[-1][1] <= settings.bridge_ms:
            stretches[-1][1] = end
        else:
            stretches.append([start, end])
    return tuple(Span(start_ms=s, end_ms=e) for s, e in stretches if e - s >= settings.min_ms)
