"""Which trained models lose their files (bot/training/pruning.py, pure; ADR 0080)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.training.pruning import prunable
from hub.domain.training import ModelRecord, ModelStatus

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def record(n: int, status: ModelStatus, path: str | None = "x") -> ModelRecord:
    return ModelRecord(id=f"m{n}", status=status, progress=1.0, phase="", created_at=T0 + timedelta(hours=n),
                       by="tom", path=path)


def test_the_newest_ready_models_are_kept_and_never_the_active_or_a_training_one() -> None:
    records = [record(1, ModelStatus.READY), record(2, ModelStatus.ACTIVE), record(3, ModelStatus.READY),
               record(4, ModelStatus.FAILED, None), record(5, ModelStatus.READY), record(6, ModelStatus.TRAINING, None),
               record(7, ModelStatus.REMOVED, None)]
    assert [r.id for r in prunable(records, keep=2)] == ["m1"]
    assert [r.id for r in prunable(records, keep=1)] == ["m3", "m1"]
    assert prunable(records, keep=3) == []
