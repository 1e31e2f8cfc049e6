"""The shipped model's stored evaluation (bot.training.shipped): kept beside the model, current only for
the held-out text it was made on."""

from __future__ import annotations

import json
from pathlib import Path

from bot.training.shipped import evaluation_path, heldout_stamp, read_evaluation, threshold_of

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
