"""Evaluate a trained Rasa model on the held-out examples (data/heldout.csv: text,intent).

Runs inside .rasa-venv (it imports rasa); no server needed:
    scripts/rasa.sh evaluate [MODEL]
    .rasa-venv/bin/python bot/rasa_project/evaluate.py --model M --heldout H --nlu bot/rasa_project/data

Reports, overall and per language (zh = the text has CJK characters, else en):
  accuracy       the intent Rasa returns (after FallbackClassifier) equals the gold intent;
                 nlu_fallback counts as wrong
  top1 accuracy  the best real intent in intent_ranking (ignoring nlu_fallback) equals the gold one
  macro-F1       over the gold intents, for both of the above
  fallback       fraction returned as nlu_fallback; "conf<0.4" is the fraction whose best real
                 intent has confidence below 0.4
  handover       the hub's handover decision (intent in HANDOVER or nlu_fallback) is the same as
                 for the gold intent
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import re
import sys

# The project's own components (northgrid_nlu) load from this folder, wherever this runs from.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import time
from collections import Counter, defaultdict
from pathlib import Path

HANDOVER = {"report_outage", "complaint", "talk_to_human", "nlu_fallback"}
FALLBACK = "nlu_fallback"
LOW_CONFIDENCE = 0.4
CJK = re.compile(r"[\u3400-\u9fff]")
ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def language(text: str) -> str:
    return "zh" if CJK.search(text) else "en"


def training_texts(nlu_dir: Path) -> set[str]:
    """Example texts in the NLU training files (annotations stripped), to catch leaks."""
    import yaml

    texts: set[str] = set()
    for path in sorted(nlu_dir.rglob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu") or []:
            if "intent" not in block:
                continue
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    texts.add(ANNOTATION.sub(r"\1", line[2:]).strip().lower())
    return texts


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    """Macro-averaged F1 over the gold labels (predictions outside them count as false positives
    of nothing, i.e. only as false negatives of the gold label)."""
    labels = sorted({gold for gold, _ in pairs})
    f1s = []
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(f1s) / len(f1s) if f1s else 0.0


def summarize(rows: list[dict]) -> dict:
    n = len(rows)
    if not n:
        return {"n": 0}
    return {
        "n": n,
        "accuracy": sum(r["pred"] == r["gold"] for r in rows) / n,
        "macro_f1": macro_f1([(r["gold"], r["pred"]) for r in rows]),
        "top1_accuracy": sum(r["top1"] == r["gold"] for r in rows) / n,
        "top1_macro_f1": macro_f1([(r["gold"], r["top1"]) for r in rows]),
        "fallback_rate": sum(r["pred"] == FALLBACK for r in rows) / n,
        "low_confidence_rate": sum(r["top1_conf"] < LOW_CONFIDENCE for r in rows) / n,
        "handover_agreement": sum(
            (r["pred"] in HANDOVER) == (r["gold"] in HANDOVER) for r in rows
        ) / n,
    }


async def run(args: argparse.Namespace) -> dict:
    from rasa.core.agent import Agent

    with open(args.heldout, newline="", encoding="utf-8") as f:
        heldout = [(row["text"], row["intent"]) for row in csv.DictReader(f)]
    if args.nlu:
        leaked = [t for t, _ in heldout if t.strip().lower() in training_texts(Path(args.nlu))]
        if leaked:
            print(f"WARNING: {len(leaked)} held-out texts are also training examples: {leaked[:5]}",
                  file=sys.stderr)

    t0 = time.perf_counter()
    agent = Agent.load(args.model)
    load_s = time.perf_counter() - t0

    rows, times = [], []
    for text, gold in heldout:
        t = time.perf_counter()
        parsed = await agent.parse_message(text)
        times.append(time.perf_counter() - t)
        ranking = [r for r in parsed.get("intent_ranking", []) if r["name"] != FALLBACK]
        top = ranking[0] if ranking else {"name": None, "confidence": 0.0}
        rows.append({
            "text": text, "gold": gold, "lang": language(text),
            "pred": parsed["intent"]["name"], "conf": parsed["intent"]["confidence"],
            "top1": top["name"], "top1_conf": top["confidence"],
        })

    times.sort()
    report = {
        "model": os.path.basename(args.model),
        "load_seconds": round(load_s, 1),
        "parse_ms_p50": round(1000 * times[len(times) // 2], 1),
        "overall": summarize(rows),
        "by_language": {lang: summarize([r for r in rows if r["lang"] == lang])
                        for lang in sorted({r["lang"] for r in rows})},
        "per_intent": {},
        "errors": [r for r in rows if r["pred"] != r["gold"]],
    }
    by_intent = defaultdict(list)
    for r in rows:
        by_intent[r["gold"]].append(r)
    for intent in sorted(by_intent):
        rs = by_intent[intent]
        report["per_intent"][intent] = {
            "n": len(rs),
            "correct": sum(r["pred"] == r["gold"] for r in rs),
            "fallback": sum(r["pred"] == FALLBACK for r in rs),
            "predicted_as": dict(Counter(r["pred"] for r in rs if r["pred"] != r["gold"])),
        }
    return report


def print_report(rep: dict) -> None:
    def line(name: str, s: dict) -> str:
        return (f"{name:<8} n={s['n']:<4} accuracy={s['accuracy']:.3f} macro-F1={s['macro_f1']:.3f}"
                f"  top1={s['top1_accuracy']:.3f} top1-F1={s['top1_macro_f1']:.3f}"
                f"  fallback={s['fallback_rate']:.3f} conf<{LOW_CONFIDENCE}={s['low_confidence_rate']:.3f}"
                f"  handover-agree={s['handover_agreement']:.3f}")

    print(f"model {rep['model']} (loaded in {rep['load_seconds']} s, "
          f"in-process parse p50 {rep['parse_ms_p50']} ms)")
    print(line("overall", rep["overall"]))
    for lang, s in rep["by_language"].items():
        print(line(lang, s))
    print("\nper intent (gold): n correct fallback  mistaken for")
    for intent, s in rep["per_intent"].items():
        wrong = ", ".join(f"{k}×{v}" for k, v in sorted(s["predicted_as"].items()))
        print(f"  {intent:<18} {s['n']:>3} {s['correct']:>7} {s['fallback']:>8}  {wrong}")
    if rep["errors"]:
        print("\nerrors: gold -> predicted (confidence) | best real intent (confidence)")
        for r in rep["errors"]:
            print(f"  [{r['lang']}] {r['text']!r}: {r['gold']} -> {r['pred']} ({r['conf']:.2f})"
                  f" | {r['top1']} ({r['top1_conf']:.2f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parent
    parser.add_argument("--model", required=True, help="model .tar.gz")
    parser.add_argument("--heldout", default=str(here / "data" / "heldout.csv"))
    parser.add_argument("--nlu", default=str(here / "data"),
                        help="training data folder, to warn about held-out texts that leaked into it")
    parser.add_argument("--json", help="also write the full report as JSON to this file")
    args = parser.parse_args()

    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    logging.disable(logging.WARNING)
    import structlog  # rasa logs every parse with structlog at debug level, on stdout

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    report = asyncio.run(run(args))
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
