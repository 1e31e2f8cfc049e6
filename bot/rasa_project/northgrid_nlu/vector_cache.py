"""The encoders' memory of recent texts (``minilm``, ``use_multilingual``): a text seen again, such as
a quick reply's title or a trainer's re-run, costs no forward pass."""
from __future__ import annotations

from collections import OrderedDict
from typing import List, Sequence

import numpy as np


class VectorCache:
    """The last ``size`` texts' vectors; the least recently used is dropped first."""

    def __init__(self, size: int) -> None:
        self._vectors: "OrderedDict[str, np.ndarray]" = OrderedDict()
        self._size = size

    def fill(self, texts: Sequence[str], out: np.ndarray) -> List[int]:
        """Writes the known texts' vectors into their rows of ``out``; returns the rows still to encode."""
        todo = []
        for i, text in enumerate(texts):
            known = self._vectors.get(text)
            if known is None:
                todo.append(i)
            else:
                self._vectors.move_to_end(text)
                out[i] = known
        return todo

    def remember(self, text: str, vector: np.ndarray) -> None:
        self._vectors[text] = vector
        if len(self._vectors) > self._size:
            self._vectors.popitem(last=False)
