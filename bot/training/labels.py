"""Pure mapping of a trainer's label (any text: spaces, punctuation, Chinese) to a safe intent name.

Rasa reads some characters in an intent name (a leading ``/``, spaces in rules, ``?`` in YAML keys
of some tools) in its own way, so the name a model is trained with is ASCII only. A label that is
already safe is its own name: the shipped intents and earlier imports keep their names. Any other
label becomes its ASCII part (lower case, other runs as ``_``), ``__`` and 8 hex digits of the
SHA-256 of the label: the same on every import and machine, different for labels that differ only
in punctuation or script. The label itself is kept for display and evaluation.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
MAX_NAME_CHARS = 64
SLUG_CHARS = 40
NOT_SLUG = re.compile(r"[^a-z0-9]+")
SPACE = re.compile(r"\s+")


def normal_label(label: str) -> str:
    """A label as stored and compared: NFC, single spaces, trimmed."""
    return SPACE.sub(" ", unicodedata.normalize("NFC", label)).strip()


def intent_name(label: str) -> str:
    """The internal intent name of ``label`` (stable; see the module's docstring)."""
    label = normal_label(label)
    if SAFE_NAME.match(label) and len(label) <= MAX_NAME_CHARS:
        return label
    slug = NOT_SLUG.sub("_", label.lower()).strip("_")[:SLUG_CHARS].rstrip("_")
    digest = hashlib.sha256(label.encode("utf-8")).hexdigest()[:8]
    return f"{slug or 'intent'}__{digest}"


def label_names(labels: Iterable[str]) -> dict[str, str]:
    """``{label: name}`` of every label; ValueError if two labels would share one name.

    Only a trainer who writes another label's mapped name literally (``x__1a2b3c4d``) can cause it.
    """
    names: dict[str, str] = {}
    owner: dict[str, str] = {}
    for label in labels:
        label = normal_label(label)
        name = intent_name(label)
        if owner.setdefault(name, label) != label:
            raise ValueError(f"the labels {owner[name]!r} and {label!r} would share the intent name {name!r}")
        names[label] = name
    return names


def mapped(names: dict[str, str]) -> dict[str, str]:
    """The labels whose name differs from the label: what an import report lists."""
    return {label: name for label, name in sorted(names.items()) if label != name}
