"""Public intent datasets for the bot-quality bench (issue 17), read from a folder the operator gives.

Not shipped with the project (their licences allow it, but they are not from a registry package):
the bench and the CLI run take the folder's path. Two formats are read:

- BANKING77 (PolyAI, CC-BY-4.0): ``train.csv`` and ``test.csv`` with the header ``text,category``;
  77 intents, no out-of-scope rows. Labels are kept as written (``reverted_card_payment?``).
- CLINC150 "oos-eval" (CC-BY-3.0): ``data_full.json`` with ``train``/``val``/``test`` lists of
  ``[text, intent]`` and ``oos_train``/``oos_val``/``oos_test`` rows labelled ``oos``. In-scope
  training rows only are trained on (as a trainer who has no out-of-scope examples); the oos rows of
  the validation and test splits stay in them, under the label ``oos`` that no model knows.

``python bench/bot_datasets.py DATASET_DIR OUT_DIR`` writes the splits as ``text,intent`` CSVs (labels as
written) for ``hub bot import`` / ``hub bot evaluate``; BANKING77's own CSVs import as they are.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path

OOS = "oos"


@dataclass(frozen=True, slots=True, kw_only=True)
class Dataset:
    name: str
    train: tuple[tuple[str, str], ...]  # (text, label as written)
    test: tuple[tuple[str, str], ...]
    validation: tuple[tuple[str, str], ...] = ()  # empty: the test set's validation third chooses the threshold

    def __repr__(self) -> str:
        return f"Dataset({self.name}: {len(self.train)} train, {len(self.validation)} val, {len(self.test)} test)"


def read_pairs_csv(path: Path) -> tuple[tuple[str, str], ...]:
    """``text`` and ``category`` (or ``intent``/``label``) columns of a CSV, as written."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        fields = {name.strip().lower(): name for name in reader.fieldnames or ()}
        label = next(fields[n] for n in ("intent", "label", "category") if n in fields)
        return tuple((row[fields["text"]], row[label]) for row in reader)


def banking77(folder: Path) -> Dataset:
    return Dataset(name="banking77", train=read_pairs_csv(folder / "train.csv"),
                   test=read_pairs_csv(folder / "test.csv"))


def clinc150(folder: Path) -> Dataset:
    data = json.loads((folder / "data_full.json").read_text("utf-8"))

    def rows(*keys: str) -> tuple[tuple[str, str], ...]:
        return tuple((str(text), str(label)) for key in keys for text, label in data[key])

    return Dataset(name="clinc150", train=rows("train"), validation=rows("val", "oos_val"),
                   test=rows("test", "oos_test"))


def load(folder: Path) -> Dataset:
    """The dataset in ``folder``, recognised by its files."""
    if (folder / "data_full.json").exists():
        return clinc150(folder)
    if (folder / "train.csv").exists() and (folder / "test.csv").exists():
        return banking77(folder)
    raise SystemExit(f"{folder}: neither data_full.json (CLINC150) nor train.csv and test.csv (BANKING77)")


def write_csv(path: Path, rows: tuple[tuple[str, str], ...]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([("text", "intent"), *rows])


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    dataset, out = load(Path(sys.argv[1])), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for split in ("train", "validation", "test"):
        rows = getattr(dataset, split)
        if rows:
            path = out / f"{dataset.name}-{split}.csv"
            write_csv(path, rows)
            print(f"{path}: {len(rows)} rows, {len({label for _, label in rows})} labels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
