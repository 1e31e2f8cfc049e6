"""LinearIntentClassifier: Rasa's logistic regression on the sparse features, with its regularisation
strength ``C`` configurable (Rasa's own fixes C=1.0).

Measured on the shipped data (bench/bot_quality.py, ADR 0052): C=1.0 spreads the confidence over the
intents (a fifth of the held-out in-scope rows under 0.5); C=30 reads 1-2 points more of them right
and is sure of 94 % of them, so an out-of-scope threshold separates better. Nothing is downloaded.
The hub's trainings start the fit from the last one's weights when they fit (northgrid_nlu/warm_start.py).
"""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, Text

from sklearn.linear_model import LogisticRegression

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.training_data import TrainingData

from northgrid_nlu import warm_start

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(LogisticRegressionClassifier):
    """Logistic regression (balanced class weights, lbfgs) with a configurable ``C``."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "C": 30.0, "max_iter": 1000}

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage,
                 resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf = LogisticRegression(
            C=float(self.config["C"]), solver=self.config["solver"], max_iter=self.config["max_iter"],
            class_weight="balanced", tol=self.config["tol"], random_state=self.config["random_state"],
            dual=False, fit_intercept=True, intercept_scaling=1, verbose=0, warm_start=False, n_jobs=None,
            l1_ratio=None)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LinearIntentClassifier":
        return cls(config, execution_context.node_name, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        X, y = self._create_training_matrix(training_data)
        if X.shape[0] == 0:
            return self._resource
        base = warm_start.folder()
        path = warm_start.path_for(base, self.config) if base else None
        classes = sorted(set(y))
        start = warm_start.load(path, classes, X.shape[1]) if path else None
        if start is not None:
            self.clf.set_params(warm_start=True)
            self.clf.coef_, self.clf.intercept_ = start
        began = time.perf_counter()
        self.clf.fit(X, y)
        logger.info("LinearIntentClassifier: %s fit of %d examples x %d features in %.1f s, %d iterations",
                    "warm" if start is not None else "cold", X.shape[0], X.shape[1], time.perf_counter() - began,
                    int(max(self.clf.n_iter_)))
        self.clf.set_params(warm_start=False)
        if path is not None:
            try:
                warm_start.save(path, [str(c) for c in self.clf.classes_], self.clf.coef_, self.clf.intercept_)
            except OSError as err:
                logger.warning("LinearIntentClassifier: warm start not saved: %s", err)
        self.persist()
        return self._resource
