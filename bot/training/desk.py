"""The trainer's desk (``hub.ports.TrainingDesk``): curated data, train, evaluate, activate.

Gathers inputs, calls the pure modules, and writes the results. One training at a time across all
processes (``bot_models`` allows one ``training`` record); in a hub process a training runs as a
named background task owned by the desk, in the CLI it is awaited.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import shutil
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from bot.handover import HandoverPolicy
from bot.training import rasa_yaml
from bot.training.activation import load_model, point_active
from bot.training.csvfile import parse_examples_csv, require_valid
from bot.training.labels import intent_name, normal_label
from bot.training.progress import Progress
from bot.training.pruning import ModelPruner
from bot.training.rasa_cli import RasaCli, RasaCliError
from bot.training.scoring import score_model
from bot.training.serving import ServingPolicy
from bot.training.shipped import newest_model, read_evaluation
from bot.training.store import TrainingStore
from bot.training.text import clean, intent_problem, key_of, language_of, text_problem
from bot.training.turns import MongoTurnLog
from hub.clock import Clock
from hub.domain.ids import new_id
from hub.domain.training import (
    BotTurnRecord,
    Example,
    ExampleSource,
    ImportReport,
    IntentSummary,
    ModelRecord,
    ModelStatus,
)
from hub.errors import InvalidInput, NotFound, ServiceUnavailable
from hub.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[ModelRecord], Awaitable[None]]
MAX_LISTED = 50  # conflicts listed in an import report


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DeskConfig:
    models_dir: Path
    work_dir: Path
    heldout: Path
    epochs: int | None
    timeout_s: float
    review_below: float
    activate_timeout_s: float
    rasa_url: str | None
    keep_models: int = 5


class TrainingDesk:
    def __init__(self, *, store: TrainingStore, turns: MongoTurnLog, cli: RasaCli, clock: Clock,
                 policy: HandoverPolicy, config: DeskConfig) -> None:
        self._store = store
        self._turns = turns
        self._cli = cli
        self._clock = clock
        self._policy = policy
        self._config = config
        self._tasks: set[asyncio.Task[None]] = set()
        self._serving = ServingPolicy(store, project_dir=cli.project_dir, heldout=config.heldout)
        self._serving_metrics: dict[str, dict[str, Any]] = {}

    @property
    def turn_log(self) -> MongoTurnLog:
        return self._turns

    async def __aenter__(self) -> TrainingDesk:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in list(self._tasks):
            await cancel_and_wait(task)

    # --- curated data -----------------------------------------------------------------------------

    async def ensure_seeded(self) -> int:
        """Load the shipped NLU examples when the collection is empty; returns how many were added."""
        if await self._store.count_examples():
            return 0
        project = await asyncio.to_thread(self._read_project)
        pairs = [pair for text in project.nlu for pair in rasa_yaml.read_nlu_examples(text)]
        now = self._clock.now()
        examples = _dedupe([Example(key=key_of(text), text=text, intent=intent, language=language_of(text),
                                    source=ExampleSource.SEED, created_at=now, by="seed") for text, intent in pairs])
        changed = await self._store.upsert_examples(examples)
        logger.info("training.seeded examples=%d", changed)
        return changed

    async def import_csv(self, text: str, *, replace: bool, by: str, skip_bad: bool = False) -> ImportReport:
        """Import a ``text,intent`` CSV. Conflicting texts are always skipped (and listed); other bad rows
        refuse the file unless ``skip_bad``."""
        started = time.perf_counter()
        try:
            parsed = require_valid(await asyncio.to_thread(parse_examples_csv, text), skip_bad=skip_bad)
        except ValueError as err:
            raise InvalidInput(str(err)) from err
        now = self._clock.now()
        examples = [Example(key=row.key, text=row.text, intent=row.intent, language=language_of(row.text),
                            source=ExampleSource.IMPORT, created_at=now, by=by) for row in parsed.rows]
        labels = {name: label for label, name in parsed.labels}
        if replace:
            written = await self._store.replace_examples(examples, labels)
        else:
            await self.ensure_seeded()
            written = await self._store.upsert_examples(examples, labels)
        report = ImportReport(rows=parsed.total, imported=written, duplicates=parsed.duplicates,
                              intents=len(parsed.intents), replaced=replace, seconds=time.perf_counter() - started,
                              skipped=parsed.conflict_rows + parsed.error_count,
                              conflicts=tuple(c.describe() for c in parsed.conflicts[:MAX_LISTED]),
                              errors=parsed.errors, mapped=parsed.labels)
        logger.info("training.imported rows=%d written=%d skipped=%d conflicts=%d intents=%d mapped=%d replace=%s",
                    report.rows, report.imported, report.skipped, len(parsed.conflicts), report.intents,
                    len(report.mapped), replace)
        return report

    async def intents(self) -> list[IntentSummary]:
        await self.ensure_seeded()
        counts = await self._store.intent_counts()
        project = await asyncio.to_thread(self._read_project)
        responses = set((rasa_yaml.load(project.domain, "domain.yml").get("responses") or {}).keys())
        shipped = set(rasa_yaml.domain_intents(rasa_yaml.load(project.domain, "domain.yml")))
        labels = await self._store.intent_labels()
        return [IntentSummary(name=name, examples=n, has_response=f"utter_{name}" in responses or name in shipped,
                              label=labels.get(name, "")) for name, n in sorted(counts.items())]

    async def add_intent(self, name: str, *, by: str) -> str:
        """``name`` is a label as the trainer writes it; returns the intent's safe name."""
        label = normal_label(clean(name))
        if problem := intent_problem(label):
            raise InvalidInput(problem)
        await self.ensure_seeded()
        intent = intent_name(label)
        await self._store.add_intents([intent], by=by, at=self._clock.now(),
                                      labels={intent: label} if intent != label else None)
        return intent

    async def add_example(self, text: str, intent: str, *, by: str,
                          source: ExampleSource = ExampleSource.TRAINER) -> Example:
        text, label = clean(text), normal_label(clean(intent))
        if problem := text_problem(text) or intent_problem(label):
            raise InvalidInput(problem)
        await self.ensure_seeded()
        intent = intent_name(label)
        example = Example(key=key_of(text), text=text, intent=intent, language=language_of(text), source=source,
                          created_at=self._clock.now(), by=by)
        await self._store.put_example(example, label if intent != label else "")
        return example

    async def remove_example(self, text: str, *, by: str) -> None:
        """The curated example with this text (as the dedupe key reads it) is no longer trained on;
        a model trained before keeps what it learnt until the next training."""
        key = key_of(clean(text))
        if not await self._store.delete_example(key):
            raise NotFound("no curated example has this text")
        logger.info("training.example.removed by=%s", by)

    async def examples(self, intent: str, limit: int = 200) -> list[Example]:
        return await self._store.examples(intent_name(intent), limit)

    async def example_texts(self) -> list[str]:
        """Every curated example's text (the voice bot's recognition grammar is built from them)."""
        await self.ensure_seeded()
        return [text for text, _ in await self._store.example_pairs()]

    async def export(self) -> dict[str, str]:
        """The files a training would use: ``config.yml``, ``domain.yml``, ``data/*.yml``."""
        await self.ensure_seeded()
        files = await self._training_files(await self._store.example_pairs())
        return files.by_name()

    # --- turns ------------------------------------------------------------------------------------

    async def turns(self, *, limit: int = 100, pending_only: bool = True) -> list[BotTurnRecord]:
        return await self._turns.for_review(below=self._config.review_below, limit=limit, pending_only=pending_only)

    async def label_turn(self, turn_id: str, intent: str, *, by: str) -> Example:
        """Confirm (same intent) or relabel a turn: its text becomes a curated example of ``intent``."""
        turn = await self._turns.turn(turn_id)
        example = await self.add_example(turn.text, intent, by=by, source=ExampleSource.TURN)
        await self._turns.mark_reviewed(turn_id, example.intent, by)
        return example

    # --- train ------------------------------------------------------------------------------------

    async def start_training(self, *, by: str) -> ModelRecord:
        """Start a training in the background; returns its record (status ``training``) at once."""
        record, files = await self._begin(by)
        task = asyncio.create_task(self._run_logged(record, files), name=f"bot:training:{record.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return record

    async def train(self, *, by: str, on_progress: ProgressCallback | None = None) -> ModelRecord:
        record, files = await self._begin(by)
        await self._run(record, files, on_progress)
        return await self._store.model(record.id)

    async def _begin(self, by: str) -> tuple[ModelRecord, rasa_yaml.TrainingFiles]:
        await self.ensure_seeded()
        pairs = await self._store.example_pairs()
        if not pairs:
            raise InvalidInput("there are no curated examples to train on")
        files = await self._training_files(pairs)
        now = self._clock.now()
        record = ModelRecord(id=f"m{now:%Y%m%d-%H%M%S}-{new_id('x')[2:8].lower()}", status=ModelStatus.TRAINING,
                             progress=0.0, phase="starting", created_at=now, by=by, examples=len(pairs),
                             intents=len(files.intents))
        await self._store.start_model(record, now)
        logger.info("training.started model=%s examples=%d intents=%d", record.id, len(pairs), len(files.intents))
        return record, files

    async def _run_logged(self, record: ModelRecord, files: rasa_yaml.TrainingFiles) -> None:
        """A background training: nobody awaits it, so an unexpected error is logged here, once."""
        try:
            await self._run(record, files, None)
        except Exception:
            logger.exception("training.crashed model=%s", record.id)
            with contextlib.suppress(Exception):
                await self._store.update_model(record.id, {"status": ModelStatus.FAILED.value,
                                                           "error": "internal error; see the hub's log"})

    async def _run(self, record: ModelRecord, files: rasa_yaml.TrainingFiles,
                   on_progress: ProgressCallback | None) -> None:
        started = time.perf_counter()
        workspace = self._config.work_dir / record.id

        async def progressed(progress: Progress) -> None:
            fields = {"progress": round(progress.fraction, 3), "phase": progress.phase,
                      "heartbeat_at": self._clock.now()}
            await self._store.update_model(record.id, fields)
            if on_progress is not None:
                await on_progress(dataclasses.replace(record, progress=progress.fraction, phase=progress.phase))

        try:
            path = await self._cli.train(files.by_name(), workspace=workspace, out_dir=self._config.models_dir,
                                         name=f"curated-{record.id}", on_progress=progressed,
                                         timeout_s=self._config.timeout_s)
        except (RasaCliError, OSError) as err:
            await self._store.update_model(record.id, {"status": ModelStatus.FAILED.value, "error": str(err)[-4000:],
                                                       "duration_s": round(time.perf_counter() - started, 1)})
            logger.warning("training.failed model=%s error=%s", record.id, str(err).splitlines()[0])
            if on_progress is not None:
                await on_progress(await self._store.model(record.id))
            return
        except asyncio.CancelledError:
            await self._store.update_model(record.id, {"status": ModelStatus.FAILED.value, "error": "cancelled"})
            raise
        duration = round(time.perf_counter() - started, 1)
        await self._store.update_model(record.id, {
            "status": ModelStatus.READY.value, "progress": 1.0, "phase": "evaluating", "path": str(path),
            "trained_at": self._clock.now(), "duration_s": duration,
            "handover_intents": list(files.handover_intents)})
        await asyncio.to_thread(shutil.rmtree, workspace, True)
        logger.info("training.ready model=%s seconds=%.1f", record.id, duration)
        if on_progress is not None:
            await on_progress(await self._store.model(record.id))
        try:
            await self.evaluate(record.id)
            await self._store.update_model(record.id, {"phase": "evaluated"})
        except (InvalidInput, RasaCliError, OSError, ValueError) as err:
            await self._store.update_model(record.id, {"phase": f"evaluation failed: {str(err)[:300]}"})
        try:
            await ModelPruner(self._store, self._config.models_dir, self._config.keep_models).prune(self._clock.now())
        except OSError as err:  # a file that could not be removed stays; the next training tries again
            logger.warning("training.prune.failed error=%s", type(err).__name__)

    async def models(self) -> list[ModelRecord]:
        return await self._store.models()

    async def model(self, model_id: str) -> ModelRecord:
        return await self._store.model(model_id)

    # --- evaluate ---------------------------------------------------------------------------------

    async def evaluate(self, model_id: str, csv_text: str | None = None) -> dict[str, Any]:
        """Score a model on a ``text,intent`` CSV (default: the held-out set, scored once and stored).

        On the held-out set the out-of-scope threshold is chosen on its validation split and recorded
        with the model; a CSV given later is scored with that recorded threshold.
        """
        record = await self._store.model(model_id)
        if record.path is None or record.status not in (ModelStatus.READY, ModelStatus.ACTIVE):
            raise InvalidInput(f"model {model_id} is {record.status}, not trained")
        if csv_text is None and record.metrics:
            return dict(record.metrics)
        threshold = record.threshold if csv_text is not None else None
        metrics = await self._score(Path(record.path), csv_text, record.handover_intents, threshold)
        if csv_text is None:
            chosen = (metrics.get("out_of_scope") or {}).get("threshold")
            await self._store.update_model(model_id, {"metrics": metrics, "threshold": chosen})
        return metrics

    async def serving_metrics(self) -> dict[str, Any] | None:
        """Held-out metrics of the model the hub's bot answers with: the active one, else the shipped one."""
        active = await self._store.active_model()
        if active is not None:
            return {"model": active.id, **(active.metrics or await self.evaluate(active.id))}
        shipped = await asyncio.to_thread(self._shipped_model)
        if shipped is None:
            return None
        if shipped.name not in self._serving_metrics:
            # scripts/rasa.sh train stores the shipped model's evaluation beside it (bot.training.shipped)
            heldout = await asyncio.to_thread(self._config.heldout.read_text, "utf-8")
            stored = await asyncio.to_thread(read_evaluation, shipped, heldout)
            self._serving_metrics[shipped.name] = stored or await self._score(shipped, heldout, ())
        return {"model": shipped.name, **self._serving_metrics[shipped.name]}

    async def _score(self, model: Path, csv_text: str | None, handover_intents: Sequence[str],
                     threshold: float | None = None) -> dict[str, Any]:
        if csv_text is None:
            csv_text = await asyncio.to_thread(self._config.heldout.read_text, "utf-8")
        return await score_model(self._cli, model, csv_text, self._policy, handover_intents, threshold)

    # --- activate ---------------------------------------------------------------------------------

    async def activate(self, model_id: str | None, *, by: str) -> ModelRecord:
        """Load the model into the running Rasa server (``PUT /model``), then record it as active."""
        record = await self._store.model(model_id) if model_id else await self._newest_ready()
        if record.status not in (ModelStatus.READY, ModelStatus.ACTIVE) or record.path is None:
            raise InvalidInput(f"model {record.id} is {record.status}; only trained models can be activated")
        path = Path(record.path)
        if not await asyncio.to_thread(path.exists):
            raise InvalidInput(f"the file of model {record.id} is gone ({path.name})")
        path = await asyncio.to_thread(path.resolve)
        if self._config.rasa_url:
            try:
                await load_model(self._config.rasa_url, path, timeout_s=self._config.activate_timeout_s)
            except OSError as err:
                raise ServiceUnavailable(f"rasa did not load the model: {err}") from err
        await self._store.mark_active(record.id, self._clock.now())
        await asyncio.to_thread(point_active, self._config.models_dir, path)
        self._serving.forget()
        logger.info("training.activated model=%s by=%s loaded=%s", record.id, by, bool(self._config.rasa_url))
        return await self._store.model(record.id)

    async def _newest_ready(self) -> ModelRecord:
        for record in await self._store.models():
            if record.status is ModelStatus.READY:
                return record
        raise NotFound("no trained model to activate; train one first")

    async def handover_intents(self) -> frozenset[str]:
        """The active model's curated intents without a response (cached a few seconds): humans take them."""
        return await self._serving.handover_intents()

    async def serving_threshold(self) -> float | None:
        """The serving model's out-of-scope threshold (the active one's, else the shipped one's stored;
        ``bot.training.serving``, ADR 0065); None when none was chosen."""
        return await self._serving.threshold()

    # --- helpers ----------------------------------------------------------------------------------

    def _read_project(self) -> rasa_yaml.Project:
        project = self._cli.project_dir
        data = project / "data"
        nlu = tuple(p.read_text("utf-8") for p in sorted(data.glob("*.yml"))
                    if p.name not in ("rules.yml", "stories.yml"))
        return rasa_yaml.Project(config=(project / "config.yml").read_text("utf-8"),
                                 domain=(project / "domain.yml").read_text("utf-8"), nlu=nlu,
                                 rules=(data / "rules.yml").read_text("utf-8"),
                                 stories=(data / "stories.yml").read_text("utf-8"))

    async def _training_files(self, pairs: list[tuple[str, str]]) -> rasa_yaml.TrainingFiles:
        project = await asyncio.to_thread(self._read_project)
        try:
            return await asyncio.to_thread(rasa_yaml.training_files, project, pairs, epochs=self._config.epochs)
        except ValueError as err:
            raise InvalidInput(str(err)) from err

    def _shipped_model(self) -> Path | None:
        return newest_model(self._cli.project_dir)


def _dedupe(examples: list[Example]) -> list[Example]:
    seen: dict[str, Example] = {}
    for example in examples:
        seen.setdefault(example.key, example)
    return list(seen.values())
