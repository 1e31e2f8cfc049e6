"""The shipped model's stored evaluation (bot.training.shipped): kept beside the model, current only for
the held-out text it was made on."""

from __future__ import annotations

import json
from pathlib import Path

from bot.training.shipped import (
    evaluation_path,
    heldout_stamp,
    newest_model,
    read_evaluation,
    stored_threshold,
    threshold_of,
)

HELDOUT = "text,intent\nmy power is out,report_outage\n"


def stored(tmp_path: Path, body: object) -> Path:
    model = tmp_path / "northgrid-0123456789abcdef.tar.gz"
    model.write_bytes(b"model")
    evaluation_path(model).write_text(json.dumps(body), "utf-8")
    return model


def test_the_evaluation_lives_beside_the_model(tmp_path: Path) -> None:
    assert evaluation_path(tmp_path / "northgrid-ab.tar.gz") == tmp_path / "northgrid-ab.eval.json"


def test_a_current_evaluation_is_read_with_its_threshold(tmp_path: Path) -> None:
    metrics = {"accuracy": 0.9, "out_of_scope": {"threshold": 0.6, "threshold_source": "validation split"}}
    model = stored(tmp_path, {"model": "m", "heldout": heldout_stamp(HELDOUT), "metrics": metrics})
    got = read_evaluation(model, HELDOUT)
    assert got == metrics and threshold_of(got) == 0.6


def test_an_evaluation_of_another_heldout_text_is_stale(tmp_path: Path) -> None:
    model = stored(tmp_path, {"heldout": heldout_stamp(HELDOUT), "metrics": {"accuracy": 0.9}})
    assert read_evaluation(model, HELDOUT + "a new row,greet\n") is None


def test_a_missing_or_broken_evaluation_reads_as_none(tmp_path: Path) -> None:
    assert read_evaluation(tmp_path / "northgrid-none.tar.gz", HELDOUT) is None
    model = stored(tmp_path, ["not", "an", "object"])
    assert read_evaluation(model, HELDOUT) is None
    evaluation_path(model).write_text("{broken", "utf-8")
    assert read_evaluation(model, HELDOUT) is None
    assert threshold_of({"out_of_scope": {}}) is None


def test_the_stamp_is_the_sha256_of_the_file_as_scripts_rasa_sh_computes_it() -> None:
    import hashlib

    assert heldout_stamp(HELDOUT) == hashlib.sha256(HELDOUT.encode()).hexdigest()[:16]


def test_the_newest_shipped_models_current_threshold_is_the_live_one(tmp_path: Path) -> None:
    import os

    heldout = tmp_path / "heldout.csv"
    heldout.write_text(HELDOUT, "utf-8")
    models = tmp_path / "models"
    models.mkdir()
    assert stored_threshold(tmp_path, heldout) is None  # no model: the configured rules decide
    old = stored(models, {"heldout": heldout_stamp(HELDOUT), "metrics": {"out_of_scope": {"threshold": 0.6}}})
    new = models / "northgrid-fedcba9876543210.tar.gz"
    new.write_bytes(b"newer model")
    os.utime(old, (1_000_000, 1_000_000))
    assert newest_model(tmp_path) == new
    assert stored_threshold(tmp_path, heldout) is None  # the newest model has no evaluation yet
    evaluation_path(new).write_text(json.dumps({"heldout": heldout_stamp(HELDOUT),
                                                "metrics": {"out_of_scope": {"threshold": 0.0}}}), "utf-8")
    assert stored_threshold(tmp_path, heldout) == (new.name, 0.0)  # 0.0 is a threshold, not "none"
    heldout.write_text(HELDOUT + "a new row,greet\n", "utf-8")
    assert stored_threshold(tmp_path, heldout) is None  # stale until scripts/rasa.sh train evaluates again
