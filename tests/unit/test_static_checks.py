"""The code base stays lint-clean (ruff, tests and benchmarks included) and strictly typed (mypy --strict on
hub and routing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["hub", "routing", "channels", "console", "bot", "voice"]
LINTED = [*PACKAGES, "tests", "bench", "scripts"]  # linted too, not type-checked


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean() -> None:
    done = run("ruff", "check", "--output-format", "concise", *LINTED)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_is_clean() -> None:
    done = run("mypy", "--no-error-summary")  # packages and strictness come from pyproject.toml
    assert done.returncode == 0, done.stdout + done.stderr
