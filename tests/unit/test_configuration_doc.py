"""docs/configuration.md is what ``hub config-doc`` prints: every setting documented, none stale."""

from __future__ import annotations

from pathlib import Path

from hub.config import Settings
from hub.configdoc import render_reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_configuration_reference_is_generated_from_the_settings() -> None:
    assert DOC.read_text(encoding="utf-8").strip() == render_reference(Settings).strip(), (
        "docs/configuration.md is stale: run `.venv/bin/python -m hub config-doc > docs/configuration.md`")
