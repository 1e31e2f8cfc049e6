"""Parse many texts with one trained model, in-process (no server): the hub's model evaluation.

Runs inside .rasa-venv (it imports rasa); the hub calls it as a subprocess (bot/training/rasa_cli.py):
    .rasa-venv/bin/python bot/rasa_project/predict.py --model M.tar.gz --input texts.json --output out.json
texts.json is a JSON list of strings. out.json gets {"model", "intents": [domain intents],
"predictions": [[intent or null, confidence, top intent, its confidence], ...]} in the order of the
input (the served intent, then the best real intent of the ranking before the fallback classifier's
nlu_fallback, which the out-of-scope threshold curve needs); the hub scores them.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys

# The project's own components (northgrid_nlu) load from this folder, wherever this runs from.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


async def run(model: str, texts: list[str]) -> dict:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    intents = list(agent.domain.intents) if agent.domain else []
    predictions = []
    for text in texts:
        parsed = await agent.parse_message(text)
        intent = parsed.get("intent") or {}
        ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
        top = ranking[0] if ranking else intent
        predictions.append([intent.get("name"), float(intent.get("confidence") or 0.0),
                            top.get("name"), float(top.get("confidence") or 0.0)])
    return {"model": os.path.basename(model), "intents": intents, "predictions": predictions}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    logging.disable(logging.WARNING)
    import structlog  # rasa logs every parse with structlog at debug level, on stdout

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with open(args.input, encoding="utf-8") as f:
        texts = json.load(f)
    result = asyncio.run(run(args.model, texts))
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
