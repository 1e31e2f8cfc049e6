"""Pure reading of ``rasa train`` output: which phase it is in and how far (0..1).

Rasa logs ``Starting to train component 'X'.`` / ``Finished training component 'X'.`` at INFO and
draws a tqdm bar per classifier, ``Epochs:  45%|####5     | 27/60 [00:10<00:12, ...]``, redrawn
with carriage returns. The epochs carry most of the time, so they get most of the bar. A pipeline
without epochs (config-linear.yml, ADR 0052) moves the bar a step per finished component, and the
project's own components say how far their long parts are (ADR 0064): the sentence encoder's
``encoded 3000 of 9999 texts`` names the phase, and the linear classifier's ``fit 40% (iteration 60)``
moves the bar from where its component started towards the epochs' end, as epochs would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

EPOCHS = re.compile(r"Epochs:\s+\d+%\|[^|]*\|\s*(\d+)/(\d+)")
STARTING = re.compile(r"Starting to train component '(\w+)'")
FINISHED = re.compile(r"Finished training component '(\w+)'")
SAVED = "Your Rasa model is trained and saved"
ENCODED = re.compile(r"SentenceEmbeddingFeaturizer: encoded (\d+) of (\d+) texts")
FIT = re.compile(r"LinearIntentClassifier: fit (\d+)% \(iteration (\d+)\)")
EPOCHS_FROM, EPOCHS_TO = 0.10, 0.90
COMPONENT_STEP = 0.1  # per finished component while no epochs were seen, up to EPOCHS_TO


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    fraction: float = 0.0
    phase: str = "starting"
    epoch: int = 0
    epochs: int = 0
    started_at: float = 0.0  # the fraction when the component now training started


def advance(progress: Progress, line: str) -> Progress:
    """The progress after one line of output (unchanged for lines that say nothing about it)."""
    if match := EPOCHS.search(line):
        epoch, epochs = int(match.group(1)), int(match.group(2))
        fraction = EPOCHS_FROM + (EPOCHS_TO - EPOCHS_FROM) * (epoch / epochs if epochs else 0.0)
        return Progress(fraction=max(progress.fraction, fraction), phase=f"epoch {epoch}/{epochs}",
                        epoch=epoch, epochs=epochs)
    if match := STARTING.search(line):
        fraction = max(progress.fraction, 0.05)
        return replace(progress, fraction=fraction, phase=f"training {match.group(1)}", started_at=fraction)
    if match := FIT.search(line):
        share = min(int(match.group(1)), 100) / 100
        fraction = progress.started_at + (EPOCHS_TO - progress.started_at) * share
        return replace(progress, fraction=max(progress.fraction, min(fraction, EPOCHS_TO)),
                       phase=f"fitting LinearIntentClassifier {int(share * 100)}% (iteration {match.group(2)})")
    if match := ENCODED.search(line):
        return replace(progress, phase=f"encoding texts {match.group(1)}/{match.group(2)}")
    if match := FINISHED.search(line):
        if progress.epochs and progress.epoch >= progress.epochs:
            return replace(progress, fraction=max(progress.fraction, EPOCHS_TO), phase=f"trained {match.group(1)}")
        if not progress.epochs:
            return replace(progress, fraction=min(EPOCHS_TO, max(progress.fraction, 0.05) + COMPONENT_STEP),
                           phase=f"trained {match.group(1)}")
        return replace(progress, phase=f"trained {match.group(1)}")
    if SAVED in line:
        return replace(progress, fraction=1.0, phase="saved")
    return progress


def split_output(buffer: str) -> tuple[list[str], str]:
    """Complete lines of ``buffer`` (ended by ``\\n`` or tqdm's ``\\r``) and the unfinished rest."""
    parts = re.split(r"[\r\n]", buffer)
    return [p for p in parts[:-1] if p.strip()], parts[-1]
