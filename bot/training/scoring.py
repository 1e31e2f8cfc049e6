"""Score one trained model on a ``text,intent`` CSV: parse every row with ``predict.py`` (Rasa's venv),
then the pure evaluation (``bot.evaluation``), whose ``out_of_scope`` section chooses the threshold on
the validation split unless one is given. The trainer's desk and the shipped model's evaluation
(``bot.training.shipped``) both score through here, so a threshold means the same wherever it is chosen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.evaluation import Prediction, confusion_pairs, evaluate, labels_of, read_csv, shown
from bot.handover import HandoverPolicy
from bot.training.rasa_cli import RasaCli
from hub.errors import InvalidInput


async def score_model(cli: RasaCli, model: Path, csv_text: str, policy: HandoverPolicy,
                      handover_intents: Sequence[str] = (), threshold: float | None = None) -> dict[str, Any]:
    try:
        rows = read_csv(csv_text)
    except ValueError as err:
        raise InvalidInput(str(err)) from err
    result = await cli.predict(model, [row.text for row in rows])
    predictions = [Prediction(row.intent, got[0], float(got[1]), text=row.text,
                              top_intent=got[2] if len(got) > 3 else None,
                              top_confidence=float(got[3]) if len(got) > 3 else None)
                   for row, got in zip(rows, result["predictions"], strict=True)]
    policy = dataclasses.replace(policy, human_only_intents=policy.human_only_intents | frozenset(handover_intents))
    known = result["intents"]
    metrics = evaluate(predictions, known, policy, threshold=threshold)
    confusions = confusion_pairs(predictions, known, policy)
    return shown({**metrics, "model_intents": len(known), "confusions": confusions}, labels_of(rows))
