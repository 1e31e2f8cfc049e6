"""Multinomial logistic regression for ``LinearIntentClassifier``, fit by L-BFGS over a sparse block and a
dense block kept apart (ADR 0064).

The objective is scikit-learn's for ``LogisticRegression(solver="lbfgs", class_weight="balanced")``:
the balanced-weighted sum of the examples' cross-entropy plus ``||W||^2 / (2 C)`` (the intercepts are
not penalised), minimised by scipy's L-BFGS-B with scikit-learn's stopping rule (``gtol = tol``). What
differs is the arithmetic: scikit-learn stacks a dense sentence embedding into one sparse matrix with the
n-gram counts, so every iteration multiplies 512 dense columns as sparse entries (most of the time of a
10,000-example fit); here ``X_sparse @ W_s + X_dense @ W_d`` uses the sparse product for the n-grams and
BLAS for the embedding. A ``progress`` callback hears each iteration with a rough fraction done, read
from the projected gradient's fall towards ``tol`` on a log scale (L-BFGS cannot know its iteration count
in advance).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Tuple

import numpy as np
import scipy.optimize
import scipy.sparse
from scipy.special import logsumexp

Progress = Callable[[int, float], None]  # (iteration, fraction done 0..1)


@dataclass(frozen=True)
class Features:
    """The same rows in two blocks: n-gram-like sparse columns and embedding-like dense columns."""

    sparse: scipy.sparse.csr_matrix  # (n, s), may have 0 columns
    dense: np.ndarray  # (n, d) float64, may have 0 columns

    @property
    def rows(self) -> int:
        return int(self.sparse.shape[0])

    @property
    def width(self) -> int:
        return int(self.sparse.shape[1] + self.dense.shape[1])

    def scores(self, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        """``X @ coef.T + intercept``: (n, k)."""
        s = self.sparse.shape[1]
        out = np.tile(intercept, (self.rows, 1))
        if s:
            out += np.asarray(self.sparse @ coef[:, :s].T)
        if self.dense.shape[1]:
            out += self.dense @ coef[:, s:].T
        return out


@dataclass(frozen=True)
class Fit:
    classes: Tuple[str, ...]
    coef: np.ndarray  # (k, width)
    intercept: np.ndarray  # (k,)
    iterations: int
    converged: bool


def balanced_weights(y: np.ndarray, k: int) -> np.ndarray:
    """scikit-learn's ``class_weight="balanced"``: n / (k * count of the example's class)."""
    counts = np.bincount(y, minlength=k).astype(np.float64)
    return (len(y) / (k * counts))[y]


def fit(x: Features, labels: Sequence[str], *, C: float, tol: float = 1e-4, max_iter: int = 1000,
        start: Optional[Tuple[np.ndarray, np.ndarray]] = None, progress: Optional[Progress] = None) -> Fit:
    """The L2-regularised multinomial fit; ``start``: (coef, intercept) to begin from instead of zeros."""
    classes = tuple(sorted(set(labels)))
    index = {c: i for i, c in enumerate(classes)}
    y = np.fromiter((index[label] for label in labels), dtype=np.int64, count=len(labels))
    k, n, width = len(classes), x.rows, x.width
    weight = balanced_weights(y, k)
    onehot = np.zeros((n, k))
    onehot[np.arange(n), y] = 1.0
    alpha = 1.0 / C
    s = x.sparse.shape[1]
    sparse_t = x.sparse.T.tocsr()  # X^T as CSR: the gradient's product is a row-major sparse times dense

    def loss_grad(theta: np.ndarray) -> Tuple[float, np.ndarray]:
        coef = theta[:k * width].reshape(k, width)
        intercept = theta[k * width:]
        raw = x.scores(coef, intercept)
        norm = logsumexp(raw, axis=1)
        loss = float(weight @ (norm - raw[np.arange(n), y])) + 0.5 * alpha * float(np.vdot(coef, coef))
        residual = (np.exp(raw - norm[:, None]) - onehot) * weight[:, None]  # (n, k)
        grad_coef = np.empty((k, width))
        if s:
            grad_coef[:, :s] = np.asarray(sparse_t @ residual).T
        if x.dense.shape[1]:
            grad_coef[:, s:] = residual.T @ x.dense
        grad_coef += alpha * coef
        return loss, np.concatenate([grad_coef.ravel(), residual.sum(axis=0)])

    theta0 = np.zeros(k * width + k)
    if start is not None:
        theta0 = np.concatenate([start[0].ravel(), start[1]])
    first: list = []  # the largest gradient entry at the start
    count = [0]

    def told(theta: np.ndarray, grad_max: float) -> float:
        if not first or grad_max <= tol:
            return 1.0
        return float(np.clip(np.log(first[0] / grad_max) / np.log(first[0] / tol), 0.0, 0.99))

    last_grad = [np.inf]

    def tracked(theta: np.ndarray) -> Tuple[float, np.ndarray]:
        value, grad = loss_grad(theta)
        last_grad[0] = float(np.max(np.abs(grad)))
        if not first:
            first.append(last_grad[0])
        return value, grad

    def step(theta: np.ndarray) -> None:
        count[0] += 1
        if progress is not None:
            progress(count[0], told(theta, last_grad[0]))

    result = scipy.optimize.minimize(tracked, theta0, method="L-BFGS-B", jac=True, callback=step,
                                     options={"gtol": tol, "maxiter": max_iter})
    theta = result.x
    return Fit(classes=classes, coef=theta[:k * width].reshape(k, width), intercept=theta[k * width:],
               iterations=int(result.nit), converged=bool(result.success))


def probabilities(x: Features, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    raw = x.scores(coef, intercept)
    return np.exp(raw - logsumexp(raw, axis=1)[:, None])
