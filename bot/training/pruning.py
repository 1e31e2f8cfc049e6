"""Old trained models' files removed, their records kept (ADR 0080).

Every training through the console writes a model file of tens of megabytes into ``models_dir``;
nothing removed them. After each training the newest ``keep`` models that are ready (not active)
keep their files; older ready ones lose theirs and become ``removed``: their figures stay in the
trainer's list, they can no longer be activated. The active model, a model training and the shipped
models (no record) are never touched, nor is a file outside ``models_dir``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from bot.training.store import TrainingStore
from hub.domain.training import ModelRecord, ModelStatus

logger = logging.getLogger(__name__)


def prunable(records: Sequence[ModelRecord], keep: int) -> list[ModelRecord]:
    """Pure: the ready models past the newest ``keep`` (by creation), oldest last as given."""
    ready = sorted((r for r in records if r.status is ModelStatus.READY and r.path),
                   key=lambda r: r.created_at, reverse=True)
    return ready[keep:]


def inside(path: Path, folder: Path) -> bool:
    """``path`` names a file in ``folder`` (no ``..`` or link leads out of it)."""
    return path.resolve().parent == folder.resolve()


class ModelPruner:
    def __init__(self, store: TrainingStore, models_dir: Path, keep: int) -> None:
        self._store = store
        self._models_dir = models_dir
        self._keep = keep

    async def prune(self, now: datetime) -> list[str]:
        """Remove the files of the models ``prunable`` names; returns their ids."""
        removed = []
        for record in prunable(await self._store.models(limit=500), self._keep):
            path = Path(record.path or "")
            if not await asyncio.to_thread(inside, path, self._models_dir):
                logger.warning("training.prune.skipped model=%s reason=outside_models_dir", record.id)
                continue
            await asyncio.to_thread(path.unlink, True)
            await self._store.update_model(record.id, {"status": ModelStatus.REMOVED.value, "path": None,
                                                       "removed_at": now})
            removed.append(record.id)
        if removed:
            logger.info("training.pruned models=%d kept=%d", len(removed), self._keep)
        return removed
