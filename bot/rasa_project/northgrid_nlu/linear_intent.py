"""LinearIntentClassifier: multinomial logistic regression on the messages' sentence features, with its
regularisation strength ``C`` configurable (Rasa's own LogisticRegressionClassifier fixes C=1.0).

Measured on the shipped data (bench/bot_quality.py, ADR 0052): C=1.0 spreads the confidence over the
intents; C=30 reads more of them right and is sure of most, so an out-of-scope threshold separates
better. The fit is scikit-learn's objective solved by northgrid_nlu/softmax.py, which keeps a dense
sentence embedding apart from the sparse n-grams (ADR 0064: on 10,000 examples that is most of the
fit's time), logs its progress, and starts from the last fit's weights when they fit
(northgrid_nlu/warm_start.py). The model stores its weights as a numpy file without pickles; a model
trained before ADR 0064 (scikit-learn's estimator in a skops file) still loads. Nothing is downloaded.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional, Text, Tuple, Type

import numpy as np
import scipy.sparse

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH

from northgrid_nlu import follow_rasa_log_level, softmax, warm_start

logger = logging.getLogger(__name__)

PROGRESS_STEP = 0.05  # a progress line per 5 % of the fit


def sentence_features(messages: List[Message]) -> softmax.Features:
    """The messages' sentence features of the text, one row each: sparse ones side by side in the order the
    featurizers added them, dense ones likewise. Only the sentence features are read (Rasa's own
    classifier asks for the combined features, which deep-copies the per-token matrices too)."""
    sparse: Dict[str, Tuple[int, List[Tuple[int, Any]]]] = {}
    dense: Dict[str, Tuple[int, List[Tuple[int, Any]]]] = {}
    for row, message in enumerate(messages):
        for f in message.features:
            if f.attribute != TEXT or f.type != FEATURE_TYPE_SENTENCE:
                continue
            into = sparse if f.is_sparse() else dense
            width, rows = into.setdefault(str(f.origin), (int(f.features.shape[-1]), []))
            rows.append((row, f.features))
    n = len(messages)
    blocks = []
    for _, rows in sparse.values():
        stacked = scipy.sparse.vstack([scipy.sparse.csr_matrix(m) for _, m in rows], format="csr")
        # rows of messages without this feature stay zero
        blocks.append(stacked if len(rows) == n else _spread(stacked, [r for r, _ in rows], n))
    sparse_block = (scipy.sparse.hstack(blocks, format="csr") if blocks else scipy.sparse.csr_matrix((n, 0)))
    dense_parts = []
    for width, rows in dense.values():
        part = np.zeros((n, width))
        for r, m in rows:
            part[r] = np.asarray(m, dtype=np.float64).reshape(-1)
        dense_parts.append(part)
    dense_block = np.hstack(dense_parts) if dense_parts else np.zeros((n, 0))
    return softmax.Features(sparse=sparse_block.astype(np.float64), dense=dense_block)


def _spread(stacked: scipy.sparse.csr_matrix, rows: List[int], n: int) -> scipy.sparse.csr_matrix:
    placed = scipy.sparse.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(n, len(rows)))
    return (placed @ stacked).tocsr()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(IntentClassifier, GraphComponent):
    """Logistic regression (balanced class weights, L-BFGS) with a configurable ``C``."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"C": 30.0, "max_iter": 1000, "tol": 1e-4, "solver": "lbfgs", "random_state": 42,
                RANKING_LENGTH: LABEL_RANKING_LENGTH}

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage,
                 resource: Resource) -> None:
        self.name = name
        follow_rasa_log_level()
        self.config = {**self.get_default_config(), **config}
        self._model_storage, self._resource = model_storage, resource
        self.classes: Tuple[str, ...] = ()
        self.coef = np.zeros((0, 0))
        self.intercept = np.zeros(0)
        self.sparse_width = 0

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LinearIntentClassifier":
        return cls(config, execution_context.node_name, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            return self._resource
        began, cpu = time.perf_counter(), time.process_time()
        x = sentence_features(examples)
        labels = [str(e.get(INTENT)) for e in examples]
        base = warm_start.folder()
        path = warm_start.path_for(base, self.config) if base else None
        start = warm_start.load(path, sorted(set(labels)), x.width) if path else None
        logger.info("LinearIntentClassifier: %s fit of %d examples x %d features (%d sparse, %d dense), %d intents",
                    "warm" if start is not None else "cold", x.rows, x.width, x.sparse.shape[1], x.dense.shape[1],
                    len(set(labels)))
        told = [0.0]

        def progress(iteration: int, fraction: float) -> None:
            if fraction >= told[0] + PROGRESS_STEP:
                told[0] = fraction
                logger.info("LinearIntentClassifier: fit %d%% (iteration %d)", int(fraction * 100), iteration)

        fit = softmax.fit(x, labels, C=float(self.config["C"]), tol=float(self.config["tol"]),
                          max_iter=int(self.config["max_iter"]), start=start, progress=progress)
        logger.info("LinearIntentClassifier: fit %d%% (iteration %d); %s in %.1f s (%.1f s CPU)", 100, fit.iterations,
                    "converged" if fit.converged else "stopped at max_iter", time.perf_counter() - began,
                    time.process_time() - cpu)
        self.classes, self.coef, self.intercept = fit.classes, fit.coef, fit.intercept
        self.sparse_width = int(x.sparse.shape[1])
        if path is not None:
            try:
                warm_start.save(path, list(self.classes), self.coef, self.intercept)
            except OSError as err:
                logger.warning("LinearIntentClassifier: warm start not saved: %s", err)
        self.persist()
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        """The most likely intent and the ranking, as Rasa's own classifier sets them."""
        if not self.classes or not messages:
            return messages
        x = sentence_features(messages)
        if x.width != self.coef.shape[1]:
            logger.warning("LinearIntentClassifier: %d features, the model knows %d; no intent set", x.width,
                           self.coef.shape[1])
            return messages
        probabilities = softmax.probabilities(x, self.coef, self.intercept)
        for message, row in zip(messages, probabilities):
            ranking = sorted(({"name": c, "confidence": float(p)} for c, p in zip(self.classes, row)),
                             key=lambda e: -e["confidence"])
            message.set("intent", ranking[0], add_to_output=True)
            if self.config[RANKING_LENGTH] > 0:
                ranking = ranking[:self.config[RANKING_LENGTH]]
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as folder:
            np.savez(folder / f"{self._resource.name}.npz", classes=np.array(self.classes, dtype=str),
                     coef=self.coef, intercept=self.intercept, sparse_width=np.array(self.sparse_width))

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "LinearIntentClassifier":
        component = cls(config, execution_context.node_name, model_storage, resource)
        try:
            with model_storage.read_from(resource) as folder:
                weights = folder / f"{resource.name}.npz"
                if weights.exists():
                    with np.load(weights, allow_pickle=False) as stored:
                        component.classes = tuple(str(c) for c in stored["classes"])
                        component.coef, component.intercept = stored["coef"], stored["intercept"]
                        component.sparse_width = int(stored["sparse_width"])
                else:
                    loaded = _from_skops(folder / f"{resource.name}.skops")
                    if loaded is not None:
                        component.classes, component.coef, component.intercept = loaded
        except ValueError:
            logger.debug("LinearIntentClassifier: resource '%s' does not exist", resource.name)
        return component


def _from_skops(path: Any) -> Optional[Tuple[Tuple[str, ...], np.ndarray, np.ndarray]]:
    """A model trained before ADR 0064: scikit-learn's LogisticRegression in a skops file, as softmax weights."""
    import skops.io as sio

    if not path.exists() or sio.get_untrusted_types(file=path):
        return None
    clf = sio.load(path, trusted=[])
    coef, intercept = np.asarray(clf.coef_, dtype=np.float64), np.asarray(clf.intercept_, dtype=np.float64)
    if coef.shape[0] == 1:  # two classes: a sigmoid is a softmax over (0, w)
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    return tuple(str(c) for c in clf.classes_), coef, intercept
