"""The sentence embeddings of the last training's texts, kept between the hub's trainings (ADR 0064).

A trainer who relabels a few examples, or adds a few, trains again on texts that are almost all the
same; their vectors are read back here instead of being encoded again (the encoders cost 2-7 ms of CPU
per text: 20-70 s for 10,000 examples). A vector depends only on its text and the encoder, so a row is
found by the SHA-256 of its text in a file per encoder identity (the model file's checksum or the
package's version); texts are not stored. After each training the file holds exactly that training's
texts, so it never grows beyond one data set. The folder is the one the warm start uses
(``NORTHGRID_WARM_START_DIR``, set by the hub's trainings); unset, nothing is read or written.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Dict, Sequence

import numpy as np


def key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def path_for(base: Path, encoder_identity: str) -> Path:
    return base / f"vectors-{hashlib.sha256(encoder_identity.encode('utf-8')).hexdigest()[:16]}.npz"


def load(path: Path, dimensions: int) -> Dict[bytes, np.ndarray]:
    """The stored vectors by text key; empty when there is no file or it does not read as one."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            keys, vectors = stored["keys"], stored["vectors"]
    except (OSError, KeyError, ValueError):
        return {}
    if keys.ndim != 2 or keys.shape[1] != 32 or vectors.shape != (len(keys), dimensions):
        return {}
    return {bytes(k): v for k, v in zip(keys, vectors)}


def save(path: Path, texts: Sequence[str], vectors: np.ndarray) -> None:
    """Replaces the file with these texts' vectors (written aside, then renamed into place)."""
    unique: Dict[bytes, int] = {}
    for row, text in enumerate(texts):
        unique.setdefault(key(text), row)
    keys = np.frombuffer(b"".join(unique), dtype=np.uint8).reshape(len(unique), 32)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp.npz")
    np.savez(scratch, keys=keys, vectors=np.asarray(vectors, dtype=np.float32)[list(unique.values())])
    os.replace(scratch, path)
