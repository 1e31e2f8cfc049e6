"""The fuzz suite's settings for one test: the chosen profile (tests/fuzz/conftest.py) and an example count."""

from __future__ import annotations

import os

from hypothesis import settings


def fuzz(max_examples: int) -> settings:
    """``max_examples`` under ``fuzz-ci``; ten times as many under ``HUB_FUZZ_PROFILE=fuzz-deep``."""
    name = os.environ.get("HUB_FUZZ_PROFILE", "fuzz-ci")
    scale = 10 if name == "fuzz-deep" else 1
    return settings(settings.get_profile(name), max_examples=max_examples * scale)
