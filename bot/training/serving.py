"""What the live bot's handover policy takes from the model it answers with (``bot.service``): the
active model's curated intents without a response, and the serving model's out-of-scope threshold,
chosen on the held-out validation split when it was trained. The active model's record gives both;
while no model is active, the shipped model's stored evaluation gives the threshold (ADR 0052, 0065).
Read from MongoDB and the model folder at most every few seconds per process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from bot.training.shipped import stored_threshold
from bot.training.store import TrainingStore

logger = logging.getLogger(__name__)

POLICY_CACHE_S = 5.0


class ServingPolicy:
    def __init__(self, store: TrainingStore, *, project_dir: Path, heldout: Path) -> None:
        self._store = store
        self._project_dir = project_dir
        self._heldout = heldout
        self._cache: tuple[float, frozenset[str], float | None] = (-POLICY_CACHE_S, frozenset(), None)
        self._shipped_logged: tuple[str, float] | None = None

    def forget(self) -> None:
        """Read again on the next turn (a model was just activated)."""
        self._cache = (-POLICY_CACHE_S, frozenset(), None)

    async def handover_intents(self) -> frozenset[str]:
        """The active model's curated intents without a response: humans take them."""
        return (await self._current())[1]

    async def threshold(self) -> float | None:
        """The active model's recorded threshold, else the shipped model's stored one; None when none was
        chosen (Rasa's fallback and the configured confidence threshold decide then)."""
        return (await self._current())[2]

    async def _current(self) -> tuple[float, frozenset[str], float | None]:
        now = time.monotonic()
        if now - self._cache[0] < POLICY_CACHE_S:
            return self._cache
        active = await self._store.active_model()
        intents = frozenset(active.handover_intents) if active else frozenset()
        threshold = active.threshold if active else await self._shipped_threshold()
        self._cache = (now, intents, threshold)
        return self._cache

    async def _shipped_threshold(self) -> float | None:
        stored = await asyncio.to_thread(stored_threshold, self._project_dir, self._heldout)
        if stored != self._shipped_logged:
            self._shipped_logged = stored
            logger.info("bot.threshold source=shipped model=%s threshold=%s",
                        stored[0] if stored else "-", stored[1] if stored else "none")
        return stored[1] if stored else None
