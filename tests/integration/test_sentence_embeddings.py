"""The dense sentence encoder (bot/rasa_project/northgrid_nlu/minilm.py, ADR 0055) in Rasa's venv, and
config-dense.yml trained and used through the hub's training path.

The reference values are sentence-transformers' own for all-MiniLM-L6-v2 (its model card's example
"This is an example sentence", and the documentation's similarity of "A man is eating food." to "A man
is eating a piece of bread.", 0.7553), which a float numpy run of the same weights reproduced to 1e-4
once; the shipped model is int8, so its values are allowed 5e-3 (measured: under 3e-3)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bot.training import rasa_yaml
from bot.training.progress import Progress
from bot.training.rasa_cli import RasaCli

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "bot" / "rasa_project"
pytestmark = pytest.mark.usefixtures("rasa_venv")  # run last: see tests/conftest.py
VENV = ROOT / ".rasa-venv"

EXAMPLE = "This is an example sentence"
EXAMPLE_TOKENS = [101, 2023, 2003, 2019, 2742, 6251, 102]
EXAMPLE_FIRST = [0.06766, 0.06350, 0.04871, 0.07930, 0.03745, 0.00265]  # the model card's torch output
TEXTS = [EXAMPLE, "A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby.",
         "A man is riding a horse.", "my electricity bill is far too high this month",
         "why is my power bill so expensive", "the streetlight outside my house is broken",
         "我要投诉", ""]


def probe(encoder: str, texts: list[str]) -> dict:
    subprocess.run([str(ROOT / "scripts" / "rasa.sh"), "install"], check=True, timeout=1800)
    script = ROOT / "tests" / "fixtures" / "sentence_encoder_probe.py"
    done = subprocess.run([str(VENV / "bin" / "python"), str(script), encoder], input=json.dumps(texts),
                          capture_output=True, text=True, check=True, timeout=300)
    out = json.loads(done.stdout)
    return {"single": np.array(out["single"]), "batch": np.array(out["batch"]), "tokens": out["tokens"]}


@pytest.fixture(scope="module")
def encoded() -> dict:
    return probe("minilm", TEXTS)


def test_the_encoder_reproduces_the_reference_model(encoded: dict) -> None:
    vectors = encoded["single"]
    assert vectors.shape == (len(TEXTS), 384)
    assert encoded["tokens"][0] == EXAMPLE_TOKENS
    assert np.allclose(vectors[0][:6], EXAMPLE_FIRST, atol=5e-3), vectors[0][:6]
    assert np.allclose(np.linalg.norm(vectors[:-1], axis=1), 1.0, atol=1e-5)
    food, bread, baby, horse = (vectors[TEXTS.index(t)] for t in TEXTS[1:5])
    assert abs(float(food @ bread) - 0.7553) < 0.01
    assert float(food @ bread) > float(food @ horse) > float(food @ baby)


def test_paraphrases_are_closer_than_unrelated_requests(encoded: dict) -> None:
    vectors = encoded["single"]
    bill, pricey, lamp = (vectors[TEXTS.index(t)] for t in TEXTS[5:8])
    assert float(bill @ pricey) > float(bill @ lamp) + 0.2


def test_a_batch_gives_each_text_its_own_vector(encoded: dict) -> None:
    # padding to the longest text in the batch must not change anyone's vector
    assert np.allclose(encoded["batch"], encoded["single"], atol=1e-4)
    chinese, empty = encoded["single"][-2], encoded["single"][-1]
    assert np.isfinite(chinese).all() and abs(np.linalg.norm(chinese) - 1.0) < 1e-5
    assert np.isfinite(empty).all()  # an empty text is [CLS] [SEP], not an error


def test_the_multilingual_encoder_puts_a_translation_next_to_its_original() -> None:
    pairs = [("my electricity bill is too high", "我的电费太高了"),
             ("there is a power cut in my street", "我们街上停电了"),
             ("I want to talk to a person", "我想跟人工客服说话")]
    out = probe("use-multilingual", [t for pair in pairs for t in pair])
    vectors = out["single"]
    assert vectors.shape == (6, 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert np.allclose(out["batch"], vectors, atol=1e-4)
    similarity = vectors[0::2] @ vectors[1::2].T  # English rows against Chinese columns
    for i in range(len(pairs)):
        others = [similarity[i, j] for j in range(len(pairs)) if j != i]
        assert similarity[i, i] > max(others) + 0.1, similarity


async def test_the_dense_pipeline_trains_and_predicts_through_the_hubs_cli(tmp_path: Path,
                                                                          encoded: dict) -> None:
    data = PROJECT / "data"
    project = rasa_yaml.Project(config=(PROJECT / "config-dense.yml").read_text("utf-8"),
                                domain=(PROJECT / "domain.yml").read_text("utf-8"),
                                nlu=((data / "nlu.yml").read_text("utf-8"),),
                                rules=(data / "rules.yml").read_text("utf-8"),
                                stories=(data / "stories.yml").read_text("utf-8"))
    files = rasa_yaml.training_files(project, rasa_yaml.read_nlu_examples(project.nlu[0]))
    assert "northgrid_nlu.sentence_embeddings.SentenceEmbeddingFeaturizer" in files.config
    cli = RasaCli(venv=VENV, project_dir=PROJECT)
    phases: list[str] = []

    async def progressed(progress: Progress) -> None:
        phases.append(progress.phase)

    model = await cli.train(files.by_name(), workspace=tmp_path / "work", out_dir=tmp_path / "models",
                            name="dense", on_progress=progressed, timeout_s=900)
    assert "training LinearIntentClassifier" in phases
    assert model.exists() and model.stat().st_size < 5_000_000  # the encoder's weights are not copied in
    result = await cli.predict(model, ["how much is my electricity bill this month", "我要投诉", "my power is out",
                                       "the lights went dark on our whole street an hour ago"])
    intents = [p[0] for p in result["predictions"]]
    assert intents == ["check_bill", "complaint", "report_outage", "report_outage"], result
