"""The project's training components for the linear classifier (ADR 0064), in Rasa's venv: the own
L-BFGS fit gives scikit-learn's model (sparse and dense blocks kept apart) and reports its progress, a
warm start from the optimum stops at once, the n-gram featurizer's rows are unit TF-IDF and survive the
model's JSON, and the training cache of sentence vectors reads back by text per encoder. Seconds, no
Rasa training (tests/integration/test_training_linear.py trains through the hub's CLI)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("rasa_venv")  # run last: see tests/conftest.py


@pytest.fixture(scope="module")
def facts() -> dict:
    done = subprocess.run([str(ROOT / ".rasa-venv" / "bin" / "python"),
                           str(ROOT / "tests" / "fixtures" / "linear_training_probe.py")],
                          capture_output=True, text=True, check=True, timeout=300)
    result: dict = json.loads(done.stdout)
    return result


def test_the_fit_is_scikit_learns_model_and_reports_progress(facts: dict) -> None:
    fit = facts["fit"]
    assert fit["classes"] == fit["reference_classes"] and fit["converged"]
    assert fit["same_predictions"] == 1.0 and fit["max_probability_gap"] < 1e-3
    assert fit["progress_iterations"] == list(range(1, fit["iterations"] + 1))
    assert fit["progress"][-1] == 1.0 and min(fit["progress"]) >= 0 and max(fit["progress"][:-1]) <= 0.99
    assert fit["warm_iterations"] <= 2 < fit["iterations"]  # started at the optimum: nothing left to do


def test_ngram_rows_are_unit_tfidf_and_survive_the_models_json(facts: dict) -> None:
    ngrams = facts["ngrams"]
    assert ngrams["word_terms"] == ["a", "bill", "cut", "high", "in", "is"]  # one-letter words kept
    assert all(abs(norm - 1.0) < 1e-9 for norm in ngrams["char_norms"])
    assert ngrams["same_after_json"] and ngrams["first_two_rows_equal"]  # case and punctuation: same words
    assert ngrams["chinese_char_terms"] == ["电"]  # min_df 2: only the character both Chinese texts share
    assert ngrams["chinese_overlap"] in (3.0, 4.0)  # a new Chinese sentence is nearest a Chinese text
    assert ngrams["unseen_text_nonzero"] == 1  # only the space that pads every word


def test_stored_vectors_read_back_by_text_per_encoder(facts: dict) -> None:
    vectors = facts["vectors"]
    assert vectors["rows"] == 3 and vectors["one"] == [0.0, 1.0, 2.0, 3.0]
    assert vectors["three"] == [12.0, 13.0, 14.0, 15.0]
    assert vectors["wrong_width"] == 0 and vectors["other_encoder"] == 0 and not vectors["same_file"]
    assert vectors["files"] == [vectors["files"][0]] and vectors["files"][0].startswith("vectors-")
