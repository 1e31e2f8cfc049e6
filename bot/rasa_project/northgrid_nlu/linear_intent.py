"""LinearIntentClassifier: Rasa's logistic regression on the sparse features, with its regularisation
strength ``C`` configurable (Rasa's own fixes C=1.0).

Measured on the shipped data (bench/bot_quality.py, ADR 0052): C=1.0 spreads the confidence over the
intents (a fifth of the held-out in-scope rows under 0.5); C=30 reads 1-2 points more of them right
and is sure of 94 % of them, so an out-of-scope threshold separates better. Nothing is downloaded.
"""
from __future__ import annotations

from typing import Any, Dict, Text

from sklearn.linear_model import LogisticRegression

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier


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
