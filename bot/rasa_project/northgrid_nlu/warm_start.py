"""Warm start for the linear intent classifier: the last fit's weights, kept per project between trainings.

A small change of the data (a few relabelled examples) leaves the texts, so the vocabulary and the
feature columns, as they were; lbfgs started from the last fit's weights then needs about half the
iterations of a cold start (ADR 0056). L2-regularised logistic regression has one optimum, so the start
changes the time, not the model (within the solver's tolerance). The weights are used only when the
classes and the number of features match, else the fit starts cold. The folder comes from
``NORTHGRID_WARM_START_DIR`` (the hub's trainings set it); unset, nothing is read or written.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np

ENV = "NORTHGRID_WARM_START_DIR"


def folder() -> Optional[Path]:
    value = os.environ.get(ENV, "").strip()
    return Path(value) if value else None


def path_for(base: Path, config: Dict[Text, Any]) -> Path:
    """One file per classifier configuration: a start is only reused by the same settings."""
    key = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:16]
    return base / f"linear-{key}.npz"


def load(path: Path, classes: List[Text], n_features: int) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """(coef, intercept) of the last fit when it had these classes and this many features."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            if list(stored["classes"]) != classes or stored["coef"].shape[1] != n_features:
                return None
            return stored["coef"].copy(), stored["intercept"].copy()
    except (OSError, KeyError, ValueError):
        return None


def save(path: Path, classes: List[Text], coef: np.ndarray, intercept: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp.npz")
    np.savez(scratch, classes=np.array(classes), coef=coef, intercept=intercept)
    os.replace(scratch, path)
