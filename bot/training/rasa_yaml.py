"""Pure conversion between curated examples and the Rasa 3.x project files (YAML text in, YAML text out).

The shipped project (``bot/rasa_project``) is the template: its config, responses, rules, stories
and non-intent NLU blocks (regexes) are kept; the curated examples replace its intent examples, and
the domain lists every curated intent. A curated intent that neither a shipped rule nor a response
``utter_<intent>`` answers gets a rule to ``utter_handover`` and is reported in ``handover_intents``:
the hub hands such turns to a human by policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

RASA_FORMAT = "3.1"
HANDOVER_RESPONSE = "utter_handover"


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """The text of the shipped project's files."""

    config: str
    domain: str
    nlu: tuple[str, ...]  # every NLU file of data/
    rules: str
    stories: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainingFiles:
    config: str
    domain: str
    nlu: str
    rules: str
    stories: str
    intents: tuple[str, ...]  # every intent of the domain
    handover_intents: tuple[str, ...]  # curated intents that nothing answers

    def by_name(self) -> dict[str, str]:
        return {"config.yml": self.config, "domain.yml": self.domain, "data/nlu.yml": self.nlu,
                "data/rules.yml": self.rules, "data/stories.yml": self.stories}


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks (``examples: |``), the way Rasa's own files look."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _str)


def dump(document: Mapping[str, Any]) -> str:
    return yaml.dump(dict(document), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)


def load(text: str, what: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise ValueError(f"{what} is not valid YAML: {err}") from err
    if not isinstance(document, dict):
        raise ValueError(f"{what} is not a YAML mapping")
    return document


def _example_lines(block: Mapping[str, Any]) -> list[str]:
    lines = []
    for line in str(block.get("examples") or "").splitlines():
        line = line.strip()
        if line.startswith("- "):
            lines.append(line[2:].strip())
    return lines


def read_nlu_examples(text: str) -> list[tuple[str, str]]:
    """``(text, intent)`` of every intent example in one Rasa NLU file (entity markup kept)."""
    pairs: list[tuple[str, str]] = []
    for block in load(text, "NLU data").get("nlu") or []:
        if isinstance(block, dict) and "intent" in block:
            pairs.extend((example, str(block["intent"])) for example in _example_lines(block) if example)
    return pairs


def other_nlu_blocks(text: str) -> list[dict[str, Any]]:
    """The blocks that are not intent examples (regex, lookup, synonym): kept as shipped."""
    return [dict(b) for b in load(text, "NLU data").get("nlu") or [] if isinstance(b, dict) and "intent" not in b]


def nlu_yaml(examples: Iterable[tuple[str, str]], extra_blocks: Sequence[Mapping[str, Any]] = ()) -> str:
    """A Rasa NLU file: one block per intent (sorted), examples in the order given."""
    by_intent: dict[str, list[str]] = {}
    for text, intent in examples:
        by_intent.setdefault(intent, []).append(text)
    blocks: list[dict[str, Any]] = [
        {"intent": intent, "examples": "".join(f"- {text}\n" for text in texts)}
        for intent, texts in sorted(by_intent.items())
    ]
    return dump({"version": RASA_FORMAT, "nlu": [*blocks, *(dict(b) for b in extra_blocks)]})


def domain_intents(domain: Mapping[str, Any]) -> list[str]:
    return [i if isinstance(i, str) else str(next(iter(i))) for i in domain.get("intents") or []]


def _rule_intents(rules: Mapping[str, Any]) -> set[str]:
    return {str(step["intent"]) for rule in rules.get("rules") or [] for step in rule.get("steps") or []
            if isinstance(step, dict) and "intent" in step}


def training_files(project: Project, examples: Sequence[tuple[str, str]], *, epochs: int | None = None
                   ) -> TrainingFiles:
    """The files of a training run: shipped template + curated examples (``(text, intent)``)."""
    config = load(project.config, "config.yml")
    if epochs is not None:
        for component in config.get("pipeline") or []:
            if isinstance(component, dict) and component.get("name") == "DIETClassifier":
                component["epochs"] = epochs
    domain = load(project.domain, "domain.yml")
    rules = load(project.rules, "rules.yml")
    responses = set((domain.get("responses") or {}).keys())
    shipped = domain_intents(domain)
    curated = sorted({intent for _, intent in examples} - set(shipped))
    intents = [*shipped, *curated]
    domain["intents"] = intents

    ruled = _rule_intents(rules)
    handover: list[str] = []
    new_rules = []
    for intent in sorted({intent for _, intent in examples} - ruled):
        answer = f"utter_{intent}"
        if answer not in responses:
            answer = HANDOVER_RESPONSE
            handover.append(intent)
        new_rules.append({"rule": f"curated {intent}", "steps": [{"intent": intent}, {"action": answer}]})
    rules["rules"] = [*(rules.get("rules") or []), *new_rules]

    extra = [block for text in project.nlu for block in other_nlu_blocks(text)]
    return TrainingFiles(config=dump(config), domain=dump(domain), nlu=nlu_yaml(examples, extra), rules=dump(rules),
                         stories=project.stories, intents=tuple(intents), handover_intents=tuple(handover))
