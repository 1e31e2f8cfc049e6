"""A large intent set generated from the project's own NLU data, for timing and scoring training at scale.

No public intent set could be found in a registry package (ADR 0052), so this writes a ``text,intent``
CSV of N rows (default 10,000) from the shipped examples (bot/rasa_project/data/nlu.yml), each row a
seeded variation of one: greetings and politeness before and after, casing, punctuation, and typing
slips (a swapped, dropped or doubled letter; a dropped character in Chinese). Deterministic for a seed.
Entity markup (``[1234567890](account_number)``) is kept as its text.

    .venv/bin/python bench/bot_synth.py --rows 10000 --out bench/results/synth-10000.csv
    .venv/bin/python -m hub bot import --replace bench/results/synth-10000.csv
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.training.rasa_yaml import read_nlu_examples  # noqa: E402

MARKUP = re.compile(r"\[([^\]]+)\]\([^)]+\)")
CJK = re.compile(r"[\u3400-\u9fff]")
EN_BEFORE = ("", "", "", "hi, ", "hello ", "excuse me, ", "quick question: ", "um ", "hey there, ", "good morning, ",
             "sorry to bother you, ", "can you tell me ")
EN_AFTER = ("", "", "", " please", " thanks", "?", "!", " asap", " thank you", " pls", " today", "...")
ZH_BEFORE = ("", "", "你好，", "请问", "麻烦问一下，", "您好，", "我想问一下，")  # noqa: RUF001
ZH_AFTER = ("", "", "？", "，谢谢", "呢", "啊", "。", "，麻烦了")  # noqa: RUF001


def slip(text: str, rng: random.Random) -> str:
    """One typing slip in a letter of the text (none when it has no room for one)."""
    spots = [i for i, ch in enumerate(text[:-1]) if ch.isalpha() and text[i + 1].isalpha()]
    if not spots:
        return text
    i = rng.choice(spots)
    kind = rng.randrange(3)
    if kind == 0:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if kind == 1:
        return text[:i] + text[i + 1:]
    return text[:i] + text[i] + text[i:]


def vary(text: str, rng: random.Random) -> str:
    if CJK.search(text):
        core = text
        if len(core) > 4 and rng.random() < 0.15:
            i = rng.randrange(1, len(core) - 1)
            core = core[:i] + core[i + 1:]
        return f"{rng.choice(ZH_BEFORE)}{core.rstrip('？?。')}{rng.choice(ZH_AFTER)}"  # noqa: RUF001
    core = text.rstrip("?!.")
    shape = rng.random()
    core = core.lower() if shape < 0.4 else core.capitalize() if shape < 0.6 else core
    if rng.random() < 0.3:
        core = slip(core, rng)
    return f"{rng.choice(EN_BEFORE)}{core}{rng.choice(EN_AFTER)}".strip()


def generate(examples: list[tuple[str, str]], rows: int, seed: int) -> list[tuple[str, str]]:
    """``rows`` distinct (case-insensitively) texts: the originals first, then variations of them in turn."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for text, intent in examples:
        key = text.casefold()
        if key not in seen and len(out) < rows:
            seen.add(key)
            out.append((text, intent))
    tries = 0
    while len(out) < rows and tries < rows * 50:
        text, intent = examples[tries % len(examples)]
        tries += 1
        variant = vary(text, rng)
        if variant and variant.casefold() not in seen:
            seen.add(variant.casefold())
            out.append((variant, intent))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "synth-10000.csv")
    args = parser.parse_args()
    nlu = (ROOT / "bot" / "rasa_project" / "data" / "nlu.yml").read_text("utf-8")
    examples = [(MARKUP.sub(r"\1", text), intent) for text, intent in read_nlu_examples(nlu)]
    rows = generate(examples, args.rows, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([("text", "intent"), *rows])
    print(f"{len(rows)} rows, {len({i for _, i in rows})} intents -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
