"""Pure parsing of a ``text,intent`` CSV into curated examples, with errors that name the line.

Labels are kept as written and mapped to safe intent names (``bot.training.labels``). A text that
carries two different labels is a conflict: all its rows are skipped and listed for the trainer to
resolve, and the rest of the file is imported.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from bot.training.labels import label_names, normal_label
from bot.training.text import clean, intent_problem, key_of, text_problem

MAX_ERRORS = 50
# The label column: ``intent``, or the name public intent sets use for it (BANKING77: ``category``).
LABEL_COLUMNS = ("intent", "label", "category")


def columns(header: list[str]) -> tuple[int, int] | None:
    """(text, label) column indexes of a header row (case and spaces ignored), or None if it lacks one."""
    names = [name.strip().lower() for name in header]
    if names:
        names[0] = names[0].removeprefix("\ufeff")
    label = next((name for name in LABEL_COLUMNS if name in names), None)
    if "text" not in names or label is None:
        return None
    return names.index("text"), names.index(label)


@dataclass(frozen=True, slots=True, kw_only=True)
class CsvRow:
    key: str
    text: str
    intent: str  # the safe internal name
    line: int
    label: str = ""  # as the trainer wrote it (normalised); "" when it is the intent name

    def __repr__(self) -> str:
        return f"CsvRow(line {self.line}: {self.intent})"


@dataclass(frozen=True, slots=True, kw_only=True)
class CsvExamples:
    rows: tuple[CsvRow, ...]  # one per normalised text, first occurrence kept
    total: int  # data rows read
    duplicates: int  # rows repeating an earlier row's normalised text with the same intent
    errors: tuple[str, ...]  # "line N: ..." (at most MAX_ERRORS)
    error_count: int
    conflicts: tuple[Conflict, ...] = ()  # texts labelled two ways: every row of them skipped
    labels: tuple[tuple[str, str], ...] = ()  # (label, intent name) of every label whose name differs

    @property
    def intents(self) -> frozenset[str]:
        return frozenset(row.intent for row in self.rows)

    @property
    def conflict_rows(self) -> int:
        return sum(len(c.lines) for c in self.conflicts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Conflict:
    """One text (as first written) carrying several labels, on these lines."""

    text: str
    labels: tuple[str, ...]
    lines: tuple[int, ...]

    def __repr__(self) -> str:
        return f"Conflict(lines {self.lines}: {self.labels})"

    def describe(self) -> str:
        where = ", ".join(str(n) for n in self.lines)
        return f"lines {where}: {self.text!r} is labelled " + " and ".join(repr(label) for label in self.labels)


class CsvProblem(ValueError):
    """The file cannot be imported; the message lists the first bad lines."""

    def __init__(self, errors: tuple[str, ...], error_count: int, hint: str = "") -> None:
        more = f"\n... and {error_count - len(errors)} more" if error_count > len(errors) else ""
        super().__init__(f"{error_count} bad row(s):\n" + "\n".join(errors) + more + (f"\n{hint}" if hint else ""))
        self.errors = errors
        self.error_count = error_count


def parse_examples_csv(data: str) -> CsvExamples:
    """Rows of a CSV with a header naming ``text`` and ``intent`` (or ``label``, ``category``; other
    columns are ignored)."""
    reader = csv.reader(io.StringIO(data.removeprefix("\ufeff"), newline=""))
    errors: list[str] = []
    error_count = 0

    def bad(line: int, why: str) -> None:
        nonlocal error_count
        error_count += 1
        if len(errors) < MAX_ERRORS:
            errors.append(f"line {line}: {why}")

    try:
        header = next(reader)
    except StopIteration:
        raise CsvProblem(("line 1: the file is empty; it needs a text,intent header",), 1) from None
    except csv.Error as err:
        raise CsvProblem((f"line 1: {err}",), 1) from None
    found = columns(header)
    if found is None:
        raise CsvProblem((f"line 1: the header must name the columns text and intent (or label, category), "
                          f"not {[name.strip().lower() for name in header[:5]]}",), 1)
    text_at, intent_at = found
    width = max(text_at, intent_at) + 1

    first: dict[str, CsvRow] = {}
    labelled: dict[str, dict[str, list[int]]] = {}  # key -> label -> lines
    total = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            bad(reader.line_num, str(err))
            continue
        line = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue  # blank line
        total += 1
        if len(fields) < width:
            bad(line, f"expected {width} columns (text,intent), found {len(fields)}")
            continue
        text, label = clean(fields[text_at]), normal_label(clean(fields[intent_at]))
        problem = text_problem(text) or intent_problem(label)
        if problem:
            bad(line, problem)
            continue
        key = key_of(text)
        first.setdefault(key, CsvRow(key=key, text=text, intent=label, line=line))
        labelled.setdefault(key, {}).setdefault(label, []).append(line)

    conflicts = tuple(Conflict(text=first[key].text, labels=tuple(by_label),
                               lines=tuple(sorted(n for lines in by_label.values() for n in lines)))
                      for key, by_label in labelled.items() if len(by_label) > 1)
    kept = [row for row in first.values() if len(labelled[row.key]) == 1]
    try:
        names = label_names(row.intent for row in kept)
    except ValueError as err:
        raise CsvProblem((str(err),), 1) from None
    rows = tuple(CsvRow(key=row.key, text=row.text, intent=names[row.intent], line=row.line,
                        label="" if names[row.intent] == row.intent else row.intent) for row in kept)
    duplicates = sum(len(lines) - 1 for by_label in labelled.values() if len(by_label) == 1
                     for lines in by_label.values())
    return CsvExamples(rows=rows, total=total, duplicates=duplicates, errors=tuple(errors), error_count=error_count,
                       conflicts=conflicts,
                       labels=tuple((label, name) for label, name in sorted(names.items()) if label != name))


def require_valid(parsed: CsvExamples, *, skip_bad: bool = False) -> CsvExamples:
    """The parsed file if it can be imported: no bad rows (or ``skip_bad``) and at least one example."""
    if parsed.error_count and not skip_bad:
        raise CsvProblem(parsed.errors, parsed.error_count,
                         hint="Fix these lines, or import the other rows with --skip-bad.")
    if not parsed.rows:
        what = (f"every text is labelled two ways ({len(parsed.conflicts)} conflict(s))" if parsed.conflicts
                else "the file has no importable examples" if parsed.error_count
                else "the file has a header but no examples")
        raise CsvProblem((what,), 1)
    return parsed
