"""The project's own Rasa component (bot/rasa_project/northgrid_nlu, config-linear.yml) through the hub's
training path: ``rasa train`` in a workspace that does not hold the component, with progress, then
``predict.py`` loading the model from another folder (ADR 0052)."""

from __future__ import annotations

from pathlib import Path

from bot.training import rasa_yaml
from bot.training.progress import Progress
from bot.training.rasa_cli import RasaCli

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "bot" / "rasa_project"


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
