"""TF-IDF n-gram blocks for SentenceNgramFeaturizer (northgrid_nlu/sentence_ngrams.py, ADR 0064): a vocabulary
and its IDF weights, fitted on the training texts in one batch; texts in, rows of unit length out. Pure
scikit-learn and numpy (no Rasa), stored as JSON (no pickle)."""
from __future__ import annotations

from typing import Any, Dict, List, Sequence

import numpy as np
import scipy.sparse
from sklearn.feature_extraction.text import CountVectorizer

WORDS = r"(?u)\b\w+\b"


def _vectorizer(analyzer: str, ngrams: tuple, **kwargs: Any) -> CountVectorizer:
    words = {"token_pattern": WORDS} if analyzer == "word" else {}
    return CountVectorizer(analyzer=analyzer, ngram_range=ngrams, lowercase=True, dtype=np.float64, **words, **kwargs)


class Block:
    """One analyzer's vocabulary and IDF weights: texts in, rows of unit length out."""

    def __init__(self, analyzer: str, ngrams: Sequence[int], vocabulary: List[str], idf: np.ndarray) -> None:
        self.analyzer, self.ngrams, self.terms, self.idf = analyzer, (int(ngrams[0]), int(ngrams[1])), vocabulary, idf
        self._counts = _vectorizer(analyzer, self.ngrams, vocabulary={t: i for i, t in enumerate(vocabulary)})

    @classmethod
    def fit(cls, texts: Sequence[str], analyzer: str, ngrams: Sequence[int], min_df: int) -> "Block":
        counts = _vectorizer(analyzer, (int(ngrams[0]), int(ngrams[1])), min_df=min(min_df, max(len(texts), 1)))
        try:
            matrix = counts.fit_transform(texts)
        except ValueError:  # nothing to count (no n-gram reaches min_df)
            return cls(analyzer, ngrams, [], np.zeros(0))
        terms = [""] * len(counts.vocabulary_)
        for term, column in counts.vocabulary_.items():
            terms[column] = term
        df = np.bincount(matrix.indices, minlength=len(terms))
        idf = np.log((1 + len(texts)) / (1 + df)) + 1.0  # scikit-learn's smoothed IDF
        return cls(analyzer, ngrams, terms, idf)

    def transform(self, texts: Sequence[str]) -> scipy.sparse.csr_matrix:
        if not self.terms:
            return scipy.sparse.csr_matrix((len(texts), 0))
        matrix = self._counts.transform(texts).tocsr()
        matrix.data = 1.0 + np.log(matrix.data)
        matrix = matrix @ scipy.sparse.diags(self.idf)
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        return scipy.sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ matrix

    def to_json(self) -> Dict[str, Any]:
        return {"analyzer": self.analyzer, "ngrams": list(self.ngrams), "terms": self.terms,
                "idf": [float(x) for x in self.idf]}

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "Block":
        return cls(data["analyzer"], data["ngrams"], list(data["terms"]), np.asarray(data["idf"], dtype=np.float64))
