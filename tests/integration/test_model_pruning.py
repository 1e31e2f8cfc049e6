"""Old trained models' files removed after a training (bot/training/pruning.py, ADR 0080): the newest
``keep`` ready models and the active one keep theirs, older ready ones lose theirs and are marked
``removed`` with their figures kept; a file outside the models folder is never touched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.training.pruning import ModelPruner
from bot.training.store import TrainingStore
from hub.domain.training import ModelStatus
from hub.storage.database import Db

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


async def test_pruning_removes_old_files_and_keeps_the_records(db: Db, tmp_path: Path) -> None:
    models_dir, elsewhere = tmp_path / "models", tmp_path / "elsewhere"
    models_dir.mkdir()
    elsewhere.mkdir()
    store = TrainingStore(db)
    files = {}
    for n, status in ((1, ModelStatus.READY), (2, ModelStatus.ACTIVE), (3, ModelStatus.READY),
                      (4, ModelStatus.READY), (5, ModelStatus.READY)):
        path = (elsewhere if n == 1 else models_dir) / f"curated-m{n}.tar.gz"
        path.write_bytes(b"model")
        files[f"m{n}"] = path
        await db["bot_models"].insert_one({
            "_id": f"m{n}", "status": status.value, "progress": 1.0, "phase": "evaluated", "by": "tom",
            "created_at": T0 + timedelta(hours=n), "path": str(path), "metrics": {"accuracy": 0.9}})
    removed = await ModelPruner(store, models_dir, keep=2).prune(T0 + timedelta(days=1))
    assert removed == ["m3"]  # m1 is older but outside the folder: left alone
    assert not files["m3"].exists() and all(files[m].exists() for m in ("m1", "m2", "m4", "m5"))
    gone = await store.model("m3")
    assert (gone.status, gone.path, gone.metrics) == (ModelStatus.REMOVED, None, {"accuracy": 0.9})
    assert (await store.model("m2")).status is ModelStatus.ACTIVE
    assert await ModelPruner(store, models_dir, keep=2).prune(T0 + timedelta(days=2)) == []  # nothing more
