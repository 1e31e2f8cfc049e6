"""``hub bot ...``: the bot's evaluation and the trainer's loop (import, train, models, activate, export)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from hub.cli.common import database_for, fmt, read_text
from hub.config import Settings
from hub.domain.training import ImportReport
from hub.errors import InvalidInput


def add_bot_commands(sub: Any) -> None:
    """``hub bot evaluate`` and the training commands."""
    bot = sub.add_parser("bot", help="the Rasa bot").add_subparsers(dest="action", required=True)
    evaluate = bot.add_parser("evaluate", help="score the running model on a CSV of text,intent rows")
    evaluate.add_argument("file", type=Path, help="CSV with a text,intent header; unknown intents = hand over")
    evaluate.add_argument("--json", action="store_true", help="machine-readable output")
    evaluate.add_argument("--model", help="a trained model's id (hub bot models) instead of the running server's")
    add_training_commands(bot)


def add_training_commands(bot: Any) -> None:
    """``hub bot import|train|models|activate|export``: the trainer's loop from the shell."""
    load = bot.add_parser("import", help="bring a text,intent CSV into the curated training data (MongoDB)")
    load.add_argument("file", type=Path, help="CSV with a text,intent header")
    load.add_argument("--replace", action="store_true", help="replace every curated example and intent")
    load.add_argument("--skip-bad", action="store_true",
                      help="import the good rows of a file with bad ones, listing what was skipped")
    bot.add_parser("train", help="train a model from the curated data, showing progress (one at a time)")
    bot.add_parser("models", help="list the trained models and their held-out scores")
    activate = bot.add_parser("activate", help="load a trained model into Rasa; scripts/rasa.sh start loads it too")
    activate.add_argument("model_id", nargs="?", help="default: the newest trained model")
    shipped = bot.add_parser("shipped-eval", help="evaluate a model of scripts/rasa.sh train on the held-out set and "
                             "store it, out-of-scope threshold included, beside the model (kept while current)")
    shipped.add_argument("model", type=Path, help="the model file (models/northgrid-<hash>.tar.gz)")
    export = bot.add_parser("export", help="write the Rasa files (domain, NLU, rules) of the curated data")
    export.add_argument("folder", type=Path)


async def run_bot(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "evaluate":
        return await run_bot_evaluation(settings, args.file, as_json=args.json, model=args.model)
    if args.action == "shipped-eval":
        return await run_shipped_evaluation(settings, args.model)
    return await run_training(args, settings)


async def run_bot_evaluation(settings: Settings, path: Path, *, as_json: bool, model: str | None = None) -> int:
    from hub.bootstrap import evaluate_bot, training_desk  # the composition root knows the bot package

    text = await read_text(path)
    try:
        if model is None:
            result = await evaluate_bot(settings, text)
        else:
            async with database_for(settings) as db, await training_desk(settings, db) as desk:
                result = await desk.evaluate(model, text)
    except ValueError as err:
        raise InvalidInput(str(err)) from err
    if as_json:
        print(json.dumps(result, indent=2))
        return 0

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1%}"

    print(f"{result['turns']} turns, {result['model_intents']} intents in the model")
    print(f"intent accuracy (in-domain rows) {pct(result['intent_accuracy'])}, "
          f"macro-F1 {pct(result.get('intent_macro_f1'))}")
    print(f"accuracy (handover counted as the right answer for unknown/human intents) {pct(result['accuracy'])}")
    print(f"macro-F1 {pct(result['macro_f1'])}, handover rate {pct(result['handover_rate'])}, "
          f"accuracy on the turns the bot keeps {pct(result['kept_accuracy'])}")
    oos = result.get("out_of_scope")
    if oos:
        print(f"out of scope at threshold {oos['threshold']:.2f} ({oos['threshold_source']}), {oos['rows']} rows: "
              f"recall {pct(oos['out_of_scope_recall'])} of {oos['out_of_scope_rows']}; in scope: accuracy "
              f"{pct(oos['in_scope_accuracy'])}, macro-F1 {pct(oos['in_scope_macro_f1'])}, handed over "
              f"{pct(oos['in_scope_handed_over'])}; other handovers {pct(oos['handed_over_for_other_reasons'])}")
        print("threshold  in-scope accuracy  in-scope handed over  out-of-scope recall")
        for point in oos["curve"]:
            print(f"{point['threshold']:9.2f}  {pct(point['in_scope_accuracy']):>17}  "
                  f"{pct(point['in_scope_handed_over']):>20}  {pct(point['out_of_scope_recall']):>19}")
    return 0


def print_import(report: ImportReport) -> None:
    print(f"{report.rows} rows, {report.imported} examples written, {report.skipped} skipped, "
          f"{report.duplicates} duplicates, {report.intents} intents"
          f"{' (replaced everything)' if report.replaced else ''} in {report.seconds:.1f} s")
    if report.mapped:
        print(f"{len(report.mapped)} label(s) mapped to intent names:")
        for label, name in report.mapped:
            print(f"  {label!r} -> {name}")
    if report.conflicts:
        print(f"skipped {len(report.conflicts)} text(s) labelled two ways; resolve and import them again:")
        for conflict in report.conflicts:
            print(f"  {conflict}")
    if report.errors:
        print("skipped bad rows:")
        for error in report.errors:
            print(f"  {error}")


async def run_shipped_evaluation(settings: Settings, model: Path) -> int:
    from hub.bootstrap import shipped_evaluation  # the composition root knows the bot package

    if not await asyncio.to_thread(model.is_file):
        raise InvalidInput(f"no model file {model}")
    metrics, computed = await shipped_evaluation(settings, model)
    scope = metrics.get("out_of_scope") or {}
    print(f"{model.name}: out-of-scope threshold {scope.get('threshold')} ({scope.get('threshold_source')}), "
          f"in-scope accuracy {fmt(scope.get('in_scope_accuracy'))}, out-of-scope recall "
          f"{fmt(scope.get('out_of_scope_recall'))}{'' if computed else ' (stored, current)'}")
    return 0


async def run_training(args: argparse.Namespace, settings: Settings) -> int:
    from hub.bootstrap import training_desk  # the composition root knows the bot package

    async with database_for(settings) as db, await training_desk(settings, db) as desk:
        if args.action == "import":
            report = await desk.import_csv(await read_text(args.file), replace=args.replace, by="cli",
                                           skip_bad=args.skip_bad)
            print_import(report)
        elif args.action == "train":
            live = sys.stdout.isatty()

            async def show(model: Any) -> None:
                line = f"{model.progress:6.1%}  {model.phase}"
                print(f"\r{line:<60}" if live else line, end="" if live else "\n", flush=True)

            model = await desk.train(by="cli", on_progress=show)
            print()
            if model.status.value == "failed":
                print(f"error: training failed: {model.error}", file=sys.stderr)
                return 1
            metrics = model.metrics or {}
            print(f"model {model.id} trained in {model.duration_s:.0f} s: {model.examples} examples, "
                  f"{model.intents} intents; held-out accuracy {fmt(metrics.get('accuracy'))}, "
                  f"macro-F1 {fmt(metrics.get('macro_f1'))} with handovers by policy; the model's reading "
                  f"{fmt(metrics.get('intent_accuracy'))}, macro-F1 {fmt(metrics.get('intent_macro_f1'))}. "
                  f"Activate: hub bot activate {model.id}")
        elif args.action == "models":
            for model in await desk.models():
                metrics = model.metrics or {}
                print(f"{model.id:<28} {model.status.value:<9} {model.examples:>6} examples "
                      f"accuracy {fmt(metrics.get('accuracy'))} macro-F1 {fmt(metrics.get('macro_f1'))}")
        elif args.action == "activate":
            model = await desk.activate(args.model_id, by="cli")
            where = "loaded into Rasa" if settings.bot.rasa_url else "Rasa loads it at its next start"
            print(f"model {model.id} is active ({where})")
        else:
            files = await desk.export()
            for name, text in files.items():
                target = args.folder / name
                await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
                await asyncio.to_thread(target.write_text, text, encoding="utf-8")
            print(f"wrote {', '.join(files)} to {args.folder}")
    return 0
