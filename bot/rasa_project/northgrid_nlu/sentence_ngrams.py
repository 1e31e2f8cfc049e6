"""SentenceNgramFeaturizer: word and character n-grams of a message's whole text as one sparse sentence
feature, for ``LinearIntentClassifier`` (ADR 0064).

It replaces the pair of Rasa ``CountVectorsFeaturizer`` s (words; ``char_wb`` 1-4) in the linear and dense
configs. Those compute a per-token sequence matrix besides the sentence one and call scikit-learn twice per
message and attribute, which the linear classifier never reads; here the whole batch is one call. The
counts are weighted as TF-IDF with a sublinear term frequency (1 + log tf) and each of the two blocks is
scaled to unit length, so long and short messages weigh alike and the classifier's solver converges in a
fraction of the iterations raw counts need (measured on BANKING77: bench/README.md, "Training time").

``char_wb`` n-grams (within words, padded by a space) carry Chinese, which has no spaces; words are runs
of word characters, one character included (as the whitespace tokenizer's tokens). Nothing is downloaded;
the model holds the two vocabularies and their IDF weights as JSON (no pickle).
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any, Dict, List, Optional, Text

import scipy.sparse

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from northgrid_nlu import follow_rasa_log_level
from northgrid_nlu.ngrams import Block

logger = logging.getLogger(__name__)

VOCABULARY_FILE = "ngrams.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceNgramFeaturizer(SparseFeaturizer, GraphComponent):
    """TF-IDF of word n-grams and ``char_wb`` n-grams of the text, as the message's sparse sentence feature."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**SparseFeaturizer.get_default_config(), "word_ngrams": [1, 1], "char_ngrams": [1, 4], "min_df": 2}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        for key in ("word_ngrams", "char_ngrams"):
            value = config.get(key)
            if not (isinstance(value, (list, tuple)) and len(value) == 2 and 1 <= int(value[0]) <= int(value[1])):
                raise InvalidConfigException(f"SentenceNgramFeaturizer: '{key}' must be [low, high], 1 <= low <= high")
        if int(config.get("min_df", 0)) < 1:
            raise InvalidConfigException("SentenceNgramFeaturizer: 'min_df' must be at least 1")

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage, resource: Resource,
                 blocks: Optional[List[Block]] = None) -> None:
        super().__init__(name, config)
        follow_rasa_log_level()
        self._model_storage, self._resource = model_storage, resource
        self._blocks = blocks or []

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "SentenceNgramFeaturizer":
        return cls(config, execution_context.node_name, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        texts = [t for t in (m.get(TEXT) for m in training_data.training_examples) if isinstance(t, str) and t.strip()]
        began = time.process_time()
        self._blocks = [Block.fit(texts, "word", self._config["word_ngrams"], 1),
                        Block.fit(texts, "char_wb", self._config["char_ngrams"], int(self._config["min_df"]))]
        logger.info("SentenceNgramFeaturizer: %d texts, %d word and %d character n-grams in %.1f s CPU", len(texts),
                    len(self._blocks[0].terms), len(self._blocks[1].terms), time.process_time() - began)
        with self._model_storage.write_to(self._resource) as folder:
            (folder / VOCABULARY_FILE).write_text(json.dumps([b.to_json() for b in self._blocks]), "utf-8")
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "SentenceNgramFeaturizer":
        try:
            with model_storage.read_from(resource) as folder:
                blocks = [Block.from_json(b) for b in json.loads((folder / VOCABULARY_FILE).read_text("utf-8"))]
        except (ValueError, FileNotFoundError):
            logger.warning("SentenceNgramFeaturizer: no vocabulary in the model; messages get no n-gram feature")
            blocks = []
        return cls(config, execution_context.node_name, model_storage, resource, blocks)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the feature to every message that has a text (in place), all of them in one batch."""
        with_text = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT).strip()]
        if not with_text or not self._blocks:
            return messages
        texts = [m.get(TEXT) for m in with_text]
        matrix = scipy.sparse.hstack([block.transform(texts) for block in self._blocks], format="csr")
        for row, message in enumerate(with_text):
            self.add_features_to_message(sequence=None, sentence=matrix[row].tocoo(), attribute=TEXT, message=message)
        return messages
