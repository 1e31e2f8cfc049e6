"""The shipped model's held-out evaluation, out-of-scope threshold included, kept beside the model.

``scripts/rasa.sh train`` trains ``models/northgrid-<hash>.tar.gz`` outside the hub's database, so its
evaluation on ``data/heldout.csv`` (threshold chosen on the validation split, ADR 0044, through the same
``score_model`` as the hub's trainings) goes to ``northgrid-<hash>.eval.json`` next to it, stamped with
the held-out file's hash: ``hub bot shipped-eval MODEL`` writes it once; a current one is kept. While
no model trained through the hub is active, the stored threshold decides live (ADR 0065).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

from bot.handover import HandoverPolicy
from bot.training.rasa_cli import RasaCli
from bot.training.scoring import score_model

SUFFIX = ".tar.gz"


def evaluation_path(model: Path) -> Path:
    name = model.name[: -len(SUFFIX)] if model.name.endswith(SUFFIX) else model.stem
    return model.with_name(f"{name}.eval.json")


def heldout_stamp(heldout_text: str) -> str:
    return hashlib.sha256(heldout_text.encode("utf-8")).hexdigest()[:16]


def read_evaluation(model: Path, heldout_text: str) -> dict[str, Any] | None:
    """The stored evaluation when it was made on this held-out text; None when missing, stale or broken."""
    try:
        stored = json.loads(evaluation_path(model).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("heldout") != heldout_stamp(heldout_text):
        return None
    metrics = stored.get("metrics")
    return metrics if isinstance(metrics, dict) else None


def threshold_of(metrics: dict[str, Any]) -> float | None:
    value = (metrics.get("out_of_scope") or {}).get("threshold")
    return float(value) if isinstance(value, int | float) else None


def newest_model(project_dir: Path) -> Path | None:
    """The newest model of ``scripts/rasa.sh train`` (``models/northgrid-<hash>.tar.gz``), which
    ``scripts/rasa.sh start`` serves while no model is activated."""
    with contextlib.suppress(OSError):
        models = sorted((project_dir / "models").glob("northgrid-*.tar.gz"), key=lambda p: p.stat().st_mtime)
        return models[-1] if models else None
    return None


def stored_threshold(project_dir: Path, heldout: Path) -> tuple[str, float] | None:
    """(model name, out-of-scope threshold) of the shipped model's stored evaluation, when it was made on
    the current held-out file; None when there is no model, no evaluation or a stale one."""
    model = newest_model(project_dir)
    if model is None:
        return None
    try:
        heldout_text = heldout.read_text("utf-8")
    except OSError:
        return None
    metrics = read_evaluation(model, heldout_text)
    threshold = threshold_of(metrics) if metrics is not None else None
    return (model.name, threshold) if threshold is not None else None


async def evaluate_shipped(cli: RasaCli, policy: HandoverPolicy, model: Path, heldout_text: str) -> dict[str, Any]:
    """Score ``model`` on the held-out text and store the result beside it (written whole, then renamed)."""
    metrics = await score_model(cli, model, heldout_text, policy)
    body = json.dumps({"model": model.name, "heldout": heldout_stamp(heldout_text), "metrics": metrics},
                      ensure_ascii=False, indent=1)
    await asyncio.to_thread(_store, evaluation_path(model), body)
    return metrics


def _store(target: Path, body: str) -> None:
    scratch = target.with_name(target.name + ".tmp")
    scratch.write_text(body, "utf-8")
    scratch.replace(target)
