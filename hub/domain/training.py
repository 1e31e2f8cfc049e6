"""The bot trainer's values: curated examples, trained models, and the bot's turns under review.

Plain frozen data; ``bot.training`` stores and computes them, the console and the CLI show them.
Their ``repr`` never contains a customer's text.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

NO_METRICS: Mapping[str, Any] = MappingProxyType({})


class ExampleSource(enum.StrEnum):
    SEED = "seed"  # the shipped bot/rasa_project/data NLU
    IMPORT = "import"  # hub bot import FILE.csv
    TRAINER = "trainer"  # typed in the trainer console
    TURN = "turn"  # a customer's turn, confirmed or relabelled by a trainer


class ModelStatus(enum.StrEnum):
    TRAINING = "training"
    READY = "ready"
    FAILED = "failed"
    ACTIVE = "active"
    REMOVED = "removed"  # its file deleted (older than the newest kept ones): figures kept, cannot be activated


@dataclass(frozen=True, slots=True, kw_only=True)
class Example:
    """One curated NLU example. ``key`` is the normalised text: one example per key."""

    key: str
    text: str
    intent: str
    language: str
    source: ExampleSource
    created_at: datetime
    by: str

    def __repr__(self) -> str:
        return f"Example({self.intent} {self.language} {self.source})"


@dataclass(frozen=True, slots=True, kw_only=True)
class IntentSummary:
    name: str  # the safe internal name the model knows
    examples: int
    has_response: bool  # the shipped domain answers it; otherwise the bot hands it over
    label: str = ""  # as the trainer wrote it, when that differs from the name


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    rows: int  # data rows in the file
    imported: int  # examples written (new or relabelled)
    duplicates: int  # rows whose normalised text was already in the file
    intents: int  # distinct intents in the file
    replaced: bool
    seconds: float
    skipped: int = 0  # rows not imported: conflicts, and bad rows when the trainer chose to skip them
    conflicts: tuple[str, ...] = ()  # "lines 4, 9: 'text' is labelled 'a' and 'b'": for the trainer to resolve
    errors: tuple[str, ...] = ()  # the bad rows skipped ("line N: ..."), at most the first 50
    mapped: tuple[tuple[str, str], ...] = ()  # (label, intent name) where the label is not a safe name

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "imported": self.imported, "duplicates": self.duplicates,
                "intents": self.intents, "replaced": self.replaced, "seconds": round(self.seconds, 3),
                "skipped": self.skipped, "conflicts": list(self.conflicts), "errors": list(self.errors),
                "mapped": dict(self.mapped)}


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelRecord:
    """A model trained from the curated data (collection ``bot_models``)."""

    id: str
    status: ModelStatus
    progress: float  # 0..1 while training
    phase: str
    created_at: datetime
    by: str
    trained_at: datetime | None = None
    duration_s: float | None = None
    path: str | None = None
    examples: int = 0
    intents: int = 0
    handover_intents: tuple[str, ...] = ()  # curated intents without a response: humans take them
    metrics: Mapping[str, Any] = field(default_factory=lambda: NO_METRICS)
    error: str | None = None
    activated_at: datetime | None = None
    threshold: float | None = None  # out-of-scope confidence threshold chosen on the held-out validation split


@dataclass(frozen=True, slots=True, kw_only=True)
class BotTurnRecord:
    """One customer turn as the bot read it (collection ``bot_turns``)."""

    id: str
    conversation_id: str
    text: str
    intent: str | None
    confidence: float
    handed_over: bool
    reason: str | None
    at: datetime
    language: str = "en"
    reviewed_intent: str | None = None  # set once a trainer confirmed or relabelled it
    reviewed_by: str | None = None
    wrap_up_code: str | None = None  # the agent's code, when a human took the conversation

    def __repr__(self) -> str:
        return f"BotTurnRecord({self.id} conv={self.conversation_id} intent={self.intent})"
