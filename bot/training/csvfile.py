"""Pure parsing of a ``text,intent`` CSV into curated examples, with errors that name the line."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from bot.training.text import clean, intent_problem, key_of, text_problem

MAX_ERRORS = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class CsvRow:
    key: str
    text: str
    intent: str
    line: int

    def __repr__(self) -> str:
        return f"CsvRow(line {self.line}: {self.intent})"


@dataclass(frozen=True, slots=True, kw_only=True)
class CsvExamples:
    rows: tuple[CsvRow, ...]  # one per normalised text, first occurrence kept
    total: int  # data rows read
    duplicates: int  # rows repeating an earlier row's normalised text with the same intent
    errors: tuple[str, ...]  # "line N: ..." (at most MAX_ERRORS)
    error_count: int

    @property
    def intents(self) -> frozenset[str]:
        return frozenset(row.intent for row in self.rows)


class CsvProblem(ValueError):
    """The file cannot be imported; the message lists the first bad lines."""

    def __init__(self, errors: tuple[str, ...], error_count: int) -> None:
        more = f"\n... and {error_count - len(errors)} more" if error_count > len(errors) else ""
        super().__init__(f"{error_count} bad row(s):\n" + "\n".join(errors) + more)
        self.errors = errors
        self.error_count = error_count


def parse_examples_csv(data: str) -> CsvExamples:
    """Rows of a CSV with a header naming ``text`` and ``intent`` (other columns are ignored)."""
    reader = csv.reader(io.StringIO(data.removeprefix("\ufeff"), newline=""))
    errors: list[str] = []
    error_count = 0

    def bad(line: int, why: str) -> None:
        nonlocal error_count
        error_count += 1
        if len(errors) < MAX_ERRORS:
            errors.append(f"line {line}: {why}")

    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise CsvProblem(("line 1: the file is empty; it needs a text,intent header",), 1) from None
    except csv.Error as err:
        raise CsvProblem((f"line 1: {err}",), 1) from None
    if "text" not in header or "intent" not in header:
        raise CsvProblem((f"line 1: the header must name the columns text and intent, not {header[:5]}",), 1)
    text_at, intent_at = header.index("text"), header.index("intent")
    width = max(text_at, intent_at) + 1

    seen: dict[str, CsvRow] = {}
    total = duplicates = 0
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
        text, intent = clean(fields[text_at]), fields[intent_at].strip()
        problem = text_problem(text) or intent_problem(intent)
        if problem:
            bad(line, problem)
            continue
        key = key_of(text)
        earlier = seen.get(key)
        if earlier is None:
            seen[key] = CsvRow(key=key, text=text, intent=intent, line=line)
        elif earlier.intent == intent:
            duplicates += 1
        else:
            bad(line, f"the same text is labelled {earlier.intent!r} on line {earlier.line} and {intent!r} here")
    return CsvExamples(rows=tuple(seen.values()), total=total, duplicates=duplicates,
                       errors=tuple(errors), error_count=error_count)


def require_valid(parsed: CsvExamples) -> CsvExamples:
    if parsed.error_count:
        raise CsvProblem(parsed.errors, parsed.error_count)
    if not parsed.rows:
        raise CsvProblem(("the file has a header but no examples",), 1)
    return parsed
