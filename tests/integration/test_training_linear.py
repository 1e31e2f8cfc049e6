"""The project's own Rasa component (bot/rasa_project/northgrid_nlu, config-linear.yml) through the hub's
training path: ``rasa train`` in a workspace that does not hold the component, with progress, then
``predict.py`` loading the model from another folder (ADR 0052); and a trainer's whole loop through
the CLI with that config: import any label, train, evaluate out of scope (issue 17)."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.training import rasa_yaml
from bot.training.labels import intent_name
from bot.training.progress import Progress
from bot.training.rasa_cli import RasaCli

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "bot" / "rasa_project"
pytestmark = pytest.mark.usefixtures("rasa_venv")  # run last: see tests/conftest.py


async def test_the_linear_pipeline_trains_and_predicts_through_the_hubs_cli(tmp_path: Path) -> None:
    data = PROJECT / "data"
    project = rasa_yaml.Project(config=(PROJECT / "config-linear.yml").read_text("utf-8"),
                                domain=(PROJECT / "domain.yml").read_text("utf-8"),
                                nlu=((data / "nlu.yml").read_text("utf-8"),),
                                rules=(data / "rules.yml").read_text("utf-8"),
                                stories=(data / "stories.yml").read_text("utf-8"))
    examples = rasa_yaml.read_nlu_examples(project.nlu[0])
    files = rasa_yaml.training_files(project, examples)
    assert "northgrid_nlu.linear_intent.LinearIntentClassifier" in files.config
    cli = RasaCli(venv=ROOT / ".rasa-venv", project_dir=PROJECT)
    seen: list[Progress] = []

    async def progressed(progress: Progress) -> None:
        seen.append(progress)

    model = await cli.train(files.by_name(), workspace=tmp_path / "work", out_dir=tmp_path / "models",
                            name="linear", on_progress=progressed, timeout_s=900)
    assert model.exists() and model.stat().st_size < 5_000_000  # no dense weights in it
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and any(0.1 < f < 1 for f in fractions) and fractions[-1] == 1.0
    assert any(p.phase == "training LinearIntentClassifier" for p in seen)

    result = await cli.predict(model, ["how much is my electricity bill this month", "我要投诉", "my power is out"])
    assert [p[0] for p in result["predictions"]] == ["check_bill", "complaint", "report_outage"], result


# `hub bot import` -> `hub bot train` -> `hub bot evaluate --model ID --json`, as a trainer would with a
# public set's labels (issue 17, "what it must show"): punctuated and Chinese labels kept as written,
# and out-of-scope rows under a label the model does not know.
NEW = {
    "solar feed-in?": ["do you buy back solar power", "solar panel export payments", "feed-in tariff for rooftop solar",
                       "can I sell power from my solar panels", "what do you pay for the power my panels export",
                       "sign me up for solar export payments", "光伏发电可以卖给你们吗", "屋顶光伏上网电价是多少",
                       "export tariff for my solar roof", "solar buyback rates"],
    "电动车 充电": ["can I charge my electric car at home", "EV charger installation", "home charging point for my EV",
                 "electric vehicle charging tariff", "is there a cheaper rate for charging an electric car",
                 "电动车充电桩怎么申请", "家里装充电桩要多少钱", "电动汽车充电电价", "充电桩安装",
                 "EV charging at night"],
}
EVALUATION = [
    *((text, "solar feed-in?") for text in ("will you buy the electricity from my solar roof",
                                            "solar export tariff please", "我的光伏电能卖给电网吗")),
    *((text, "电动车 充电") for text in ("I need a charger for my electric car", "EV charging rates",
                                      "我想装一个电动车充电桩")),
    *((text, "check_bill") for text in ("how much is my bill", "why is my bill so high this month")),
    *((text, "report_outage") for text in ("my power is out", "停电了")),
    *((text, "weather") for text in ("will it rain tomorrow", "who won the football match last night",
                                     "recommend a good pizza place", "what is the capital of France",
                                     "how tall is mount everest", "sing me a song")),
    *((text, "Out of scope") for text in ("can you book me a flight to Rome", "tell me a joke about cats")),
]


def test_a_trainer_imports_trains_and_evaluates_any_label_through_the_cli(mongo_url: str, db_name: str,
                                                                         tmp_path: Path) -> None:
    project = tmp_path / "project"  # the shipped project with the linear pipeline as its config (ADR 0052)
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("models", "run", ".rasa"))
    shutil.copy(PROJECT / "config-linear.yml", project / "config.yml")
    env = {**os.environ, "HUB_MONGO_URL": mongo_url, "HUB_MONGO_DB": db_name,
           "HUB_TRAINING__PROJECT_DIR": str(project), "HUB_TRAINING__MODELS_DIR": str(tmp_path / "models"),
           "HUB_TRAINING__WORK_DIR": str(tmp_path / "work")}

    def hub(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "hub", "bot", *args], env=env, capture_output=True, text=True,
                              timeout=timeout, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        return done

    data = tmp_path / "new.csv"
    with data.open("w", encoding="utf-8", newline="") as f:  # the label column named as BANKING77 names it
        csv.writer(f).writerows([("text", "category"), *((t, label) for label, texts in NEW.items() for t in texts)])
    imported = hub("import", str(data)).stdout
    assert "20 rows, 20 examples written, 0 skipped" in imported
    for label in NEW:
        assert f"{label!r} -> {intent_name(label)}" in imported

    trained = hub("train", timeout=900).stdout
    assert "training LinearIntentClassifier" in trained
    model_id = re.search(r"^model (\S+) trained in", trained, re.MULTILINE)
    assert model_id, trained

    rows = tmp_path / "evaluate.csv"
    with rows.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([("text", "intent"), *EVALUATION])
    result = json.loads(hub("evaluate", "--model", model_id[1], "--json", str(rows), timeout=300).stdout)
    oos = result["out_of_scope"]
    print(f"\nevaluate --model: {json.dumps({k: v for k, v in oos.items() if k != 'curve'})}")
    # Labels as written, the mapping listed.
    assert result["labels"] == {intent_name(label): label for label in [*NEW, "Out of scope"]}
    # The model's reading per label, apart from the policy (per_intent folds intents without a response
    # into "(handover)").
    assert set(NEW) <= set(result["intent_per_intent"]) and result["intent_macro_f1"] >= 0.7
    # Expected handovers: the new labels (no response), report_outage (human only), the out-of-scope rows.
    assert result["per_intent"]["(handover)"]["support"] == 6 + 2 + 8
    # Out of scope: the unknown label and the explicit one, at the threshold recorded with the model.
    assert oos["threshold_source"] == "model" and oos["out_of_scope_rows"] == 8 and oos["in_scope_rows"] == 10
    assert oos["out_of_scope_recall"] >= 0.5 and oos["in_scope_accuracy"] >= 0.7
    # The new intents have no response, so the policy hands their turns over; that is counted apart and
    # neither lowers in-scope accuracy nor raises out-of-scope recall.
    assert oos["handed_over_for_other_reasons"] >= 4 / len(EVALUATION)
    assert oos["in_scope_handed_over"] <= 0.3
